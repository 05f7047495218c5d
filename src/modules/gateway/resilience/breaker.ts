import { type Clock, systemClock } from "../../../lib/clock.ts";
import { UpstreamError } from "../../../providers/types.ts";
import {
  type CallRecord,
  countWindow,
  emptyTotals,
  type SlidingWindow,
  timeWindow,
  type WindowTotals,
} from "./sliding-window.ts";

/**
 * A circuit breaker on the resilience4j model. CLOSED judges a sliding window of recent
 * calls once it holds `minimumCalls`: a failure rate or a slow-call rate at or above its
 * threshold opens it. OPEN refuses every call for `openMs`, then HALF_OPEN lets exactly
 * `halfOpenCalls` probes through and judges them with the same thresholds: below both,
 * it closes with an empty window; otherwise it opens again for another `openMs`.
 * Setting names match the route config's `breaker` object, so it passes straight through.
 */

export type BreakerState = "CLOSED" | "OPEN" | "HALF_OPEN";

export interface BreakerSettings {
  /** `count`: the last `windowSize` calls; `time`: the calls of the last `windowSize` seconds. */
  windowType: "count" | "time";
  windowSize: number;
  /** Calls the window must hold before it is judged (for count windows, at most `windowSize`). */
  minimumCalls: number;
  failureRatePct: number;
  slowCallRatePct: number;
  /** A call taking longer than this is slow (failed calls can be slow too). */
  slowCallMs: number;
  /** How long OPEN refuses calls before letting probes through. */
  openMs: number;
  /** Probe calls HALF_OPEN permits; further calls are refused while they are in flight. */
  halfOpenCalls: number;
}

export const DEFAULT_BREAKER_SETTINGS: Readonly<BreakerSettings> = Object.freeze({
  windowType: "count",
  windowSize: 20,
  minimumCalls: 10,
  failureRatePct: 50,
  slowCallRatePct: 80,
  slowCallMs: 10_000,
  openMs: 30_000,
  halfOpenCalls: 3,
});

/** `success`: the upstream answered and the fault is the caller's (a 400); `ignore`: counts for nothing. */
export type ErrorVerdict = "failure" | "success" | "ignore";

/** Retryable upstream errors and timeouts count against the version; an abort says nothing about it. */
export function defaultClassifyError(err: unknown): ErrorVerdict {
  if (!(err instanceof UpstreamError)) return "success";
  if (err.kind === "aborted") return "ignore";
  return err.retryable || err.kind === "timeout" ? "failure" : "success";
}

export interface BreakerPermission {
  readonly allowed: true;
  readonly state: BreakerState;
  /** Which stretch of state it was issued in: outcomes from an earlier one are not counted. */
  readonly generation: number;
}

export interface BreakerRefusal {
  readonly allowed: false;
  readonly state: BreakerState;
  /** When a call may be permitted; null when unknown (probes in flight, forced open). */
  readonly retryInMs: number | null;
}

export type TransitionReason =
  | "failure_rate"
  | "slow_call_rate"
  | "open_elapsed"
  | "probes_passed"
  | "forced_open"
  | "reset";

export interface BreakerSnapshot {
  state: BreakerState;
  forced: boolean;
  /** Percentages over the calls judged now: the window (CLOSED), the probes (HALF_OPEN), the window that tripped (OPEN). */
  failureRate: number;
  slowRate: number;
  calls: number;
  failedCalls: number;
  slowCalls: number;
  retryInMs: number | null;
}

export interface BreakerStateChange {
  name: string;
  from: BreakerState;
  to: BreakerState;
  reason: TransitionReason;
  at: Date;
  snapshot: BreakerSnapshot;
}

export interface CircuitBreaker {
  readonly name: string;
  tryAcquire(): BreakerPermission | BreakerRefusal;
  onSuccess(permission: BreakerPermission, durationMs: number): void;
  onError(permission: BreakerPermission, durationMs: number, err: unknown): void;
  /** Hands a permission back without an outcome (the caller went away). */
  release(permission: BreakerPermission): void;
  state(): BreakerState;
  snapshot(): BreakerSnapshot;
  settings(): Readonly<BreakerSettings>;
  /** Changes the settings keeping the state, its timer, and (for count windows) the recorded calls. */
  reconfigure(settings: Partial<BreakerSettings>): void;
  onStateChange(listener: (change: BreakerStateChange) => void): () => void;
  forceOpen(): void;
  reset(): void;
}

export interface BreakerDeps {
  clock: Clock;
  name?: string;
  settings?: Partial<BreakerSettings>;
  classifyError?: (err: unknown) => ErrorVerdict;
}

export function validateBreakerSettings(s: BreakerSettings): BreakerSettings {
  const bad = (field: string, why: string) => new RangeError(`breaker ${field} ${why}`);
  for (const k of ["windowSize", "minimumCalls", "halfOpenCalls"] as const)
    if (!Number.isInteger(s[k]) || s[k] < 1) throw bad(k, "must be an integer ≥ 1");
  for (const k of ["failureRatePct", "slowCallRatePct"] as const)
    if (!(s[k] > 0 && s[k] <= 100)) throw bad(k, "must be in (0, 100]");
  for (const k of ["slowCallMs", "openMs"] as const)
    if (!(s[k] >= 0 && Number.isFinite(s[k]))) throw bad(k, "must be a finite number ≥ 0");
  if (s.windowType !== "count" && s.windowType !== "time") throw bad("windowType", "must be count or time");
  return s;
}

const rate = (part: number, whole: number) => (whole === 0 ? 0 : (part / whole) * 100);

function makeWindow(s: BreakerSettings, previous?: SlidingWindow): SlidingWindow {
  if (previous && previous.type === s.windowType && previous.size === s.windowSize) return previous;
  if (s.windowType === "time") return timeWindow(s.windowSize);
  return countWindow(s.windowSize, previous?.entries?.() ?? []);
}

export function createCircuitBreaker(deps: BreakerDeps): CircuitBreaker {
  const { clock, name = "breaker", classifyError = defaultClassifyError } = deps;
  let cfg = validateBreakerSettings({ ...DEFAULT_BREAKER_SETTINGS, ...deps.settings });
  let window = makeWindow(cfg);
  let current: BreakerState = "CLOSED";
  let generation = 0;
  let forced = false;
  let openedAt = 0;
  let tripTotals = emptyTotals();
  let probesIssued = 0;
  let probes = emptyTotals();
  const outstanding = new WeakSet<BreakerPermission>();
  const listeners = new Set<(change: BreakerStateChange) => void>();
  const nowMs = clock === systemClock ? Date.now : () => clock.now().getTime();

  const minimumCalls = () =>
    cfg.windowType === "count" ? Math.min(cfg.minimumCalls, cfg.windowSize) : cfg.minimumCalls;

  function totalsNow(now: number): WindowTotals {
    if (current === "CLOSED") return window.totals(now);
    return current === "HALF_OPEN" ? { ...probes } : { ...tripTotals };
  }

  function snapshotAt(now: number): BreakerSnapshot {
    const t = totalsNow(now);
    return {
      state: current,
      forced,
      failureRate: rate(t.failed, t.calls),
      slowRate: rate(t.slow, t.calls),
      calls: t.calls,
      failedCalls: t.failed,
      slowCalls: t.slow,
      retryInMs: current === "OPEN" && !forced ? Math.max(0, openedAt + cfg.openMs - now) : null,
    };
  }

  function transition(to: BreakerState, reason: TransitionReason, now: number) {
    const from = current;
    if (to === "OPEN") {
      tripTotals = totalsNow(now);
      openedAt = now;
    }
    current = to;
    generation++;
    probesIssued = 0;
    probes = emptyTotals();
    if (to === "CLOSED") window.clear();
    if (from === to) return;
    const change = { name, from, to, reason, at: new Date(now), snapshot: snapshotAt(now) };
    for (const l of listeners) {
      try {
        l(change);
      } catch {
        // A failing logger or metric must not corrupt the breaker's bookkeeping.
      }
    }
  }

  /** OPEN becomes HALF_OPEN lazily, on the first look after `openMs`. */
  function advance(now: number) {
    if (current === "OPEN" && !forced && now >= openedAt + cfg.openMs)
      transition("HALF_OPEN", "open_elapsed", now);
  }

  /** The reason to open over these totals, or null when they pass. */
  function verdict(t: WindowTotals): TransitionReason | null {
    if (rate(t.failed, t.calls) >= cfg.failureRatePct) return "failure_rate";
    if (rate(t.slow, t.calls) >= cfg.slowCallRatePct) return "slow_call_rate";
    return null;
  }

  function judgeProbes(now: number) {
    if (probes.calls < cfg.halfOpenCalls) return;
    const why = verdict(probes);
    if (why) transition("OPEN", why, now);
    else transition("CLOSED", "probes_passed", now);
  }

  function record(p: BreakerPermission, call: CallRecord) {
    if (!outstanding.delete(p) || p.generation !== generation) return;
    const now = nowMs();
    if (current === "CLOSED") {
      window.record(call, now);
      const t = window.totals(now);
      const why = t.calls >= minimumCalls() ? verdict(t) : null;
      if (why) transition("OPEN", why, now);
    } else if (current === "HALF_OPEN") {
      probes.calls++;
      if (call.failed) probes.failed++;
      if (call.slow) probes.slow++;
      judgeProbes(now);
    }
  }

  const breaker: CircuitBreaker = {
    name,
    tryAcquire() {
      const now = nowMs();
      advance(now);
      const grant = () => {
        const p: BreakerPermission = { allowed: true, state: current, generation };
        outstanding.add(p);
        return p;
      };
      if (current === "CLOSED") return grant();
      if (current === "HALF_OPEN" && probesIssued < cfg.halfOpenCalls) {
        probesIssued++;
        return grant();
      }
      return { allowed: false, state: current, retryInMs: snapshotAt(now).retryInMs };
    },
    onSuccess(p, durationMs) {
      record(p, { failed: false, slow: durationMs > cfg.slowCallMs });
    },
    onError(p, durationMs, err) {
      const v = classifyError(err);
      if (v === "ignore") breaker.release(p);
      else record(p, { failed: v === "failure", slow: durationMs > cfg.slowCallMs });
    },
    release(p) {
      if (!outstanding.delete(p) || p.generation !== generation) return;
      if (current === "HALF_OPEN") probesIssued--;
    },
    state() {
      advance(nowMs());
      return current;
    },
    snapshot() {
      const now = nowMs();
      advance(now);
      return snapshotAt(now);
    },
    settings: () => ({ ...cfg }),
    reconfigure(settings) {
      cfg = validateBreakerSettings({ ...DEFAULT_BREAKER_SETTINGS, ...settings });
      window = makeWindow(cfg, window);
      if (current === "HALF_OPEN") judgeProbes(nowMs());
    },
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    forceOpen() {
      forced = true;
      if (current !== "OPEN") transition("OPEN", "forced_open", nowMs());
    },
    reset() {
      forced = false;
      transition("CLOSED", "reset", nowMs());
    },
  };
  return breaker;
}
