import type { Clock } from "../../../lib/clock.ts";
import {
  type BreakerSettings,
  type BreakerSnapshot,
  type BreakerStateChange,
  type CircuitBreaker,
  createCircuitBreaker,
  DEFAULT_BREAKER_SETTINGS,
  type ErrorVerdict,
  validateBreakerSettings,
} from "./breaker.ts";

/**
 * One circuit breaker per model version, created on first use. Settings are per version:
 * `update` replaces a version's overrides (what it does not name falls back to the
 * registry defaults, so dropping a field from a route reverts it) and keeps the breaker's
 * state. State changes of every breaker reach the registry's listeners, `name` = version id.
 */
export interface BreakerRegistry {
  get(versionId: string): CircuitBreaker;
  update(versionId: string, settings: Partial<BreakerSettings>): void;
  /** Forgets a version (retired): its breaker and its overrides. */
  remove(versionId: string): boolean;
  snapshots(): Map<string, BreakerSnapshot>;
  onStateChange(listener: (change: BreakerStateChange) => void): () => void;
}

export interface BreakerRegistryDeps {
  clock: Clock;
  /** Merged over DEFAULT_BREAKER_SETTINGS. */
  defaults?: Partial<BreakerSettings>;
  classifyError?: (err: unknown) => ErrorVerdict;
}

export function createBreakerRegistry(deps: BreakerRegistryDeps): BreakerRegistry {
  const defaults = validateBreakerSettings({ ...DEFAULT_BREAKER_SETTINGS, ...deps.defaults });
  const overrides = new Map<string, Partial<BreakerSettings>>();
  const breakers = new Map<string, CircuitBreaker>();
  const listeners = new Set<(change: BreakerStateChange) => void>();
  const settingsOf = (versionId: string) => ({ ...defaults, ...overrides.get(versionId) });
  const forward = (change: BreakerStateChange) => {
    for (const l of listeners) {
      try {
        l(change);
      } catch {
        // One failing listener must not starve the others.
      }
    }
  };

  return {
    get(versionId) {
      let b = breakers.get(versionId);
      if (!b) {
        b = createCircuitBreaker({
          clock: deps.clock,
          name: versionId,
          settings: settingsOf(versionId),
          ...(deps.classifyError ? { classifyError: deps.classifyError } : {}),
        });
        b.onStateChange(forward);
        breakers.set(versionId, b);
      }
      return b;
    },
    update(versionId, settings) {
      // Validate before storing, so a bad update leaves the old settings in force.
      validateBreakerSettings({ ...defaults, ...settings });
      overrides.set(versionId, { ...settings });
      breakers.get(versionId)?.reconfigure(settingsOf(versionId));
    },
    remove(versionId) {
      overrides.delete(versionId);
      return breakers.delete(versionId);
    },
    snapshots: () => new Map([...breakers].map(([id, b]) => [id, b.snapshot()])),
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
