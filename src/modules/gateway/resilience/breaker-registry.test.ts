import assert from "node:assert/strict";
import { test } from "node:test";
import { manualClock } from "../../../lib/clock.ts";
import { UpstreamError } from "../../../providers/types.ts";
import type { BreakerStateChange, CircuitBreaker } from "./breaker.ts";
import { createBreakerRegistry } from "./breaker-registry.ts";

const E503 = new UpstreamError("http", "unavailable", { status: 503 });

function fail(b: CircuitBreaker, n: number) {
  for (let i = 0; i < n; i++) {
    const p = b.tryAcquire();
    if (!p.allowed) throw new Error("refused");
    b.onError(p, 1, E503);
  }
}

test("one breaker per version, created on first use with the registry defaults", () => {
  const reg = createBreakerRegistry({ clock: manualClock(), defaults: { minimumCalls: 4 } });
  const a = reg.get("ver_a");
  assert.equal(reg.get("ver_a"), a);
  assert.notEqual(reg.get("ver_b"), a);
  assert.equal(a.name, "ver_a");
  assert.equal(a.settings().minimumCalls, 4);
  assert.equal(a.settings().windowSize, 20, "unnamed settings come from DEFAULT_BREAKER_SETTINGS");
  fail(a, 4);
  assert.equal(a.state(), "OPEN");
  assert.equal(reg.get("ver_b").state(), "CLOSED", "versions do not share state");
});

test("per-version settings given before the breaker exists apply when it is created", () => {
  const reg = createBreakerRegistry({ clock: manualClock() });
  reg.update("ver_a", { failureRatePct: 90, minimumCalls: 2 });
  assert.equal(reg.get("ver_a").settings().failureRatePct, 90);
  assert.equal(reg.get("ver_b").settings().failureRatePct, 50);
});

test("update keeps the state and timer; it replaces the overrides, so dropped fields revert", () => {
  const clock = manualClock();
  const reg = createBreakerRegistry({ clock });
  reg.update("ver_a", { minimumCalls: 2, openMs: 60_000 });
  const a = reg.get("ver_a");
  fail(a, 2);
  assert.equal(a.state(), "OPEN");
  clock.advance(20_000);
  reg.update("ver_a", { minimumCalls: 2 });
  assert.equal(a.state(), "OPEN");
  assert.equal(a.settings().openMs, 30_000);
  assert.equal(a.snapshot().retryInMs, 10_000, "opened 20s ago, now with the default 30s");
});

test("an invalid update is refused and leaves the old settings in force", () => {
  const reg = createBreakerRegistry({ clock: manualClock() });
  reg.update("ver_a", { windowSize: 8 });
  assert.throws(() => reg.update("ver_a", { windowSize: 0 }), RangeError);
  assert.equal(reg.get("ver_a").settings().windowSize, 8);
});

test("state changes of every breaker reach the registry listeners, named by version id", () => {
  const reg = createBreakerRegistry({ clock: manualClock(), defaults: { minimumCalls: 1 } });
  const seen: BreakerStateChange[] = [];
  const off = reg.onStateChange((c) => seen.push(c));
  fail(reg.get("ver_a"), 1);
  fail(reg.get("ver_b"), 1);
  assert.deepEqual(
    seen.map((c) => `${c.name}:${c.to}`),
    ["ver_a:OPEN", "ver_b:OPEN"],
  );
  off();
  reg.get("ver_a").reset();
  assert.equal(seen.length, 2);
});

test("snapshots list every breaker; remove forgets one with its overrides", () => {
  const reg = createBreakerRegistry({ clock: manualClock(), defaults: { minimumCalls: 1 } });
  reg.update("ver_a", { minimumCalls: 5 });
  fail(reg.get("ver_a"), 1);
  reg.get("ver_b");
  const snaps = reg.snapshots();
  assert.deepEqual([...snaps.keys()], ["ver_a", "ver_b"]);
  assert.equal(snaps.get("ver_a")?.failedCalls, 1);
  assert.equal(reg.remove("ver_a"), true);
  assert.equal(reg.remove("ver_a"), false);
  assert.equal(reg.get("ver_a").settings().minimumCalls, 1, "overrides went with it");
  assert.equal(reg.get("ver_a").snapshot().calls, 0);
});
