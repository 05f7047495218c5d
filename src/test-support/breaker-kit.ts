import assert from "node:assert/strict";
import { manualClock } from "../lib/clock.ts";
import {
  type BreakerSettings,
  type BreakerStateChange,
  type CircuitBreaker,
  createCircuitBreaker,
} from "../modules/gateway/resilience/breaker.ts";
import { UpstreamError } from "../providers/types.ts";

/** Shared by the breaker tests: a breaker on a manual clock, and one-line calls through it. */

export const E503 = new UpstreamError("http", "unavailable", { status: 503 });
export const E400 = new UpstreamError("http", "bad request", { status: 400 });

export function setup(settings: Partial<BreakerSettings> = {}) {
  const clock = manualClock();
  const breaker = createCircuitBreaker({ clock, name: "ver_a", settings });
  const changes: BreakerStateChange[] = [];
  breaker.onStateChange((c) => changes.push(c));
  return { clock, breaker, changes };
}

/** Runs one call through the breaker; throws if it was refused. */
export function call(b: CircuitBreaker, outcome: "ok" | "fail" | UpstreamError, durationMs = 5) {
  const p = b.tryAcquire();
  if (!p.allowed) throw new Error(`refused in ${p.state}`);
  if (outcome === "ok") b.onSuccess(p, durationMs);
  else b.onError(p, durationMs, outcome === "fail" ? E503 : outcome);
}

/** Ten failures: OPEN under the default settings. */
export function trip(b: CircuitBreaker) {
  for (let i = 0; i < 10; i++) call(b, "fail");
  assert.equal(b.state(), "OPEN");
}
