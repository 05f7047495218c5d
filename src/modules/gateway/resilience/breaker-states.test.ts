import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { call, E503, setup, trip } from "../../../test-support/breaker-kit.ts";

describe("circuit breaker: open and half-open", () => {
  test("open refuses with the time left, then lets probes through after openMs", () => {
    const { clock, breaker, changes } = setup();
    trip(breaker);
    clock.advance(10_000);
    assert.deepEqual(breaker.tryAcquire(), { allowed: false, state: "OPEN", retryInMs: 20_000 });
    clock.advance(19_999);
    assert.deepEqual(breaker.tryAcquire(), { allowed: false, state: "OPEN", retryInMs: 1 });
    clock.advance(1);
    const p = breaker.tryAcquire();
    assert.equal(p.allowed, true);
    assert.equal(p.state, "HALF_OPEN");
    assert.deepEqual(
      changes.map((c) => `${c.from}>${c.to}:${c.reason}`),
      ["CLOSED>OPEN:failure_rate", "OPEN>HALF_OPEN:open_elapsed"],
    );
  });

  test("exactly halfOpenCalls probes are permitted; further calls are refused while they are in flight", () => {
    const { clock, breaker } = setup({ halfOpenCalls: 3 });
    trip(breaker);
    clock.advance(30_000);
    const probes = [breaker.tryAcquire(), breaker.tryAcquire(), breaker.tryAcquire()];
    assert.deepEqual(
      probes.map((p) => p.allowed),
      [true, true, true],
    );
    assert.deepEqual(breaker.tryAcquire(), { allowed: false, state: "HALF_OPEN", retryInMs: null });
  });

  test("probes all succeeding close it, with an empty window", () => {
    const { clock, breaker, changes } = setup();
    trip(breaker);
    clock.advance(30_000);
    call(breaker, "ok");
    call(breaker, "ok");
    assert.equal(breaker.state(), "HALF_OPEN", "judged only once all 3 probes are back");
    call(breaker, "ok");
    assert.equal(breaker.state(), "CLOSED");
    assert.equal(changes.at(-1)?.reason, "probes_passed");
    assert.equal(breaker.snapshot().calls, 0);
  });

  test("probe failures at or over the threshold re-open it for a fresh openMs", () => {
    const { clock, breaker, changes } = setup();
    trip(breaker);
    clock.advance(30_000);
    call(breaker, "fail");
    call(breaker, "ok");
    call(breaker, "fail");
    assert.equal(breaker.state(), "OPEN", "2 of 3 probes failed: 67% ≥ 50%");
    assert.deepEqual(changes.at(-1) && [changes.at(-1)!.from, changes.at(-1)!.to], ["HALF_OPEN", "OPEN"]);
    assert.deepEqual(breaker.tryAcquire(), { allowed: false, state: "OPEN", retryInMs: 30_000 });
    assert.equal(breaker.snapshot().failedCalls, 2, "snapshot shows the probes that re-opened it");
  });

  test("one failed probe of three (33%) is below 50%: it closes", () => {
    const { clock, breaker } = setup();
    trip(breaker);
    clock.advance(30_000);
    call(breaker, "fail");
    call(breaker, "ok");
    call(breaker, "ok");
    assert.equal(breaker.state(), "CLOSED");
  });

  test("with a single probe, its failure re-opens and its success closes", () => {
    const { clock, breaker } = setup({ halfOpenCalls: 1 });
    trip(breaker);
    clock.advance(30_000);
    call(breaker, "fail");
    assert.equal(breaker.state(), "OPEN");
    clock.advance(30_000);
    call(breaker, "ok");
    assert.equal(breaker.state(), "CLOSED");
  });

  test("a released probe frees its slot", () => {
    const { clock, breaker } = setup({ halfOpenCalls: 1 });
    trip(breaker);
    clock.advance(30_000);
    const p = breaker.tryAcquire();
    assert.ok(p.allowed);
    assert.equal(breaker.tryAcquire().allowed, false);
    breaker.release(p);
    assert.equal(breaker.tryAcquire().allowed, true);
  });

  test("a permission from an earlier state does not count as a probe", () => {
    const { clock, breaker } = setup({ halfOpenCalls: 1 });
    const stale = breaker.tryAcquire();
    assert.ok(stale.allowed);
    trip(breaker);
    clock.advance(30_000);
    assert.equal(breaker.state(), "HALF_OPEN");
    breaker.onError(stale, 1, E503);
    assert.equal(breaker.state(), "HALF_OPEN");
    assert.equal(breaker.snapshot().calls, 0);
    call(breaker, "ok");
    assert.equal(breaker.state(), "CLOSED");
  });

  test("forceOpen refuses with no retry time and outlasts openMs; reset closes with an empty window", () => {
    const { clock, breaker, changes } = setup();
    call(breaker, "fail");
    breaker.forceOpen();
    clock.advance(3_600_000);
    assert.deepEqual(breaker.tryAcquire(), { allowed: false, state: "OPEN", retryInMs: null });
    assert.equal(breaker.snapshot().forced, true);
    breaker.reset();
    assert.equal(breaker.state(), "CLOSED");
    assert.equal(breaker.snapshot().calls, 0);
    assert.deepEqual(
      changes.map((c) => c.reason),
      ["forced_open", "reset"],
    );
  });

  test("a throwing listener neither breaks the breaker nor silences other listeners", () => {
    const { breaker, changes } = setup();
    breaker.onStateChange(() => {
      throw new Error("logger down");
    });
    const seen: string[] = [];
    const off = breaker.onStateChange((c) => seen.push(c.to));
    trip(breaker);
    assert.deepEqual(seen, ["OPEN"]);
    assert.equal(changes.length, 1);
    off();
    breaker.reset();
    assert.deepEqual(seen, ["OPEN"], "unsubscribed listener hears nothing");
  });
});

describe("circuit breaker: time-based window and reconfiguring", () => {
  test("judges only the calls of the last windowSize seconds", () => {
    const { clock, breaker } = setup({ windowType: "time", windowSize: 10, minimumCalls: 5 });
    for (let i = 0; i < 4; i++) call(breaker, "fail");
    clock.advance(9_000);
    assert.equal(breaker.snapshot().calls, 4, "9s later the calls are still inside a 10s window");
    clock.advance(1_000);
    assert.equal(breaker.snapshot().calls, 0, "10s later they have left it");
    call(breaker, "fail");
    assert.equal(breaker.state(), "CLOSED", "1 call is below the minimum of 5");
    for (let i = 0; i < 4; i++) call(breaker, "fail");
    assert.equal(breaker.state(), "OPEN");
  });

  test("calls spread over seconds add up within the window", () => {
    const { clock, breaker } = setup({ windowType: "time", windowSize: 5, minimumCalls: 4 });
    for (let s = 0; s < 4; s++) {
      call(breaker, s % 2 === 0 ? "fail" : "ok");
      clock.advance(1_000);
    }
    assert.equal(breaker.state(), "OPEN", "2 of 4 in 4 seconds");
  });

  test("reconfigure keeps OPEN and its timer, with the new openMs", () => {
    const { clock, breaker } = setup();
    trip(breaker);
    clock.advance(5_000);
    breaker.reconfigure({ openMs: 10_000 });
    assert.equal(breaker.state(), "OPEN");
    assert.deepEqual(breaker.tryAcquire(), { allowed: false, state: "OPEN", retryInMs: 5_000 });
  });

  test("growing a count window keeps the calls already recorded", () => {
    const { breaker } = setup({ windowSize: 4, minimumCalls: 4 });
    call(breaker, "fail");
    call(breaker, "ok");
    call(breaker, "ok");
    breaker.reconfigure({ windowSize: 10, minimumCalls: 4 });
    assert.deepEqual([breaker.snapshot().calls, breaker.snapshot().failedCalls], [3, 1]);
    call(breaker, "fail");
    assert.equal(breaker.state(), "OPEN", "2 of 4 = 50%");
  });

  test("shrinking a count window keeps only the newest calls", () => {
    const { breaker } = setup({ windowSize: 10, minimumCalls: 10 });
    call(breaker, "fail");
    call(breaker, "fail");
    call(breaker, "ok");
    call(breaker, "ok");
    breaker.reconfigure({ windowSize: 2, minimumCalls: 10 });
    assert.deepEqual([breaker.snapshot().calls, breaker.snapshot().failedCalls], [2, 0]);
  });
});
