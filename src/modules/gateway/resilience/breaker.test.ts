import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { manualClock } from "../../../lib/clock.ts";
import { UpstreamError } from "../../../providers/types.ts";
import { call, E400, E503, setup } from "../../../test-support/breaker-kit.ts";
import { createCircuitBreaker, DEFAULT_BREAKER_SETTINGS, defaultClassifyError } from "./breaker.ts";

describe("circuit breaker: closed state", () => {
  test("defaults are window 20, min 10 calls, 50% failures, 80% slow at 10s, open 30s, 3 probes", () => {
    assert.deepEqual(
      { ...DEFAULT_BREAKER_SETTINGS },
      {
        windowType: "count",
        windowSize: 20,
        minimumCalls: 10,
        failureRatePct: 50,
        slowCallRatePct: 80,
        slowCallMs: 10_000,
        openMs: 30_000,
        halfOpenCalls: 3,
      },
    );
  });

  test("10 calls with 5 failures is 50%: opens on the 10th call, not before", () => {
    const { breaker, changes } = setup();
    for (let i = 0; i < 5; i++) call(breaker, "ok");
    for (let i = 0; i < 4; i++) call(breaker, "fail");
    assert.equal(breaker.state(), "CLOSED", "9 calls are below the minimum of 10");
    assert.equal(breaker.snapshot().failureRate, (4 / 9) * 100);
    call(breaker, "fail");
    assert.equal(breaker.state(), "OPEN");
    assert.equal(changes.length, 1);
    assert.deepEqual(
      { from: changes[0]!.from, to: changes[0]!.to, reason: changes[0]!.reason, name: changes[0]!.name },
      { from: "CLOSED", to: "OPEN", reason: "failure_rate", name: "ver_a" },
    );
    const s = breaker.snapshot();
    assert.deepEqual(
      { calls: s.calls, failedCalls: s.failedCalls, failureRate: s.failureRate, retryInMs: s.retryInMs },
      { calls: 10, failedCalls: 5, failureRate: 50, retryInMs: 30_000 },
    );
  });

  test("10 calls with 4 failures (40%) stays closed", () => {
    const { breaker } = setup();
    for (let i = 0; i < 6; i++) call(breaker, "ok");
    for (let i = 0; i < 4; i++) call(breaker, "fail");
    assert.equal(breaker.state(), "CLOSED");
    assert.equal(breaker.snapshot().failureRate, 40);
  });

  test("below the minimum number of calls it never opens, even at 100% failures", () => {
    const { breaker } = setup({ minimumCalls: 10 });
    for (let i = 0; i < 9; i++) call(breaker, "fail");
    assert.equal(breaker.state(), "CLOSED");
    assert.equal(breaker.snapshot().failureRate, 100);
  });

  test("the window slides: old failures fall out of the last N calls", () => {
    const { breaker } = setup({ windowSize: 10, minimumCalls: 10 });
    for (let i = 0; i < 4; i++) call(breaker, "fail");
    for (let i = 0; i < 6; i++) call(breaker, "ok");
    assert.equal(breaker.snapshot().failureRate, 40);
    for (let i = 0; i < 3; i++) call(breaker, "ok");
    assert.equal(breaker.snapshot().failureRate, 10, "3 of the 4 failures were evicted");
    assert.equal(breaker.snapshot().calls, 10);
  });

  test("a count window caps the minimum at its size (window 5, min 10: judged at 5 calls)", () => {
    const { breaker } = setup({ windowSize: 5, minimumCalls: 10 });
    call(breaker, "ok");
    call(breaker, "ok");
    call(breaker, "fail");
    call(breaker, "fail");
    assert.equal(breaker.state(), "CLOSED");
    call(breaker, "fail");
    assert.equal(breaker.state(), "OPEN", "3 of 5 = 60%");
  });

  test("slow calls: 8 of 10 slower than 10s (80%) open it; exactly 10s is not slow", () => {
    const { breaker, changes } = setup();
    for (let i = 0; i < 2; i++) call(breaker, "ok", 10_000);
    for (let i = 0; i < 7; i++) call(breaker, "ok", 10_001);
    assert.equal(breaker.state(), "CLOSED");
    assert.equal(breaker.snapshot().slowCalls, 7);
    call(breaker, "ok", 12_000);
    assert.equal(breaker.state(), "OPEN");
    assert.equal(changes[0]?.reason, "slow_call_rate");
    assert.equal(breaker.snapshot().slowRate, 80);
    assert.equal(breaker.snapshot().failureRate, 0);
  });

  test("7 slow of 10 (70%) stays closed", () => {
    const { breaker } = setup();
    for (let i = 0; i < 3; i++) call(breaker, "ok", 1);
    for (let i = 0; i < 7; i++) call(breaker, "ok", 20_000);
    assert.equal(breaker.state(), "CLOSED");
    assert.equal(breaker.snapshot().slowRate, 70);
  });

  test("a failed call can be slow too, counting in both rates", () => {
    const { breaker } = setup();
    call(breaker, "fail", 20_000);
    const s = breaker.snapshot();
    assert.deepEqual([s.failedCalls, s.slowCalls], [1, 1]);
  });

  test("the client's own 400 counts as a success, never as a failure", () => {
    const { breaker } = setup();
    for (let i = 0; i < 10; i++) call(breaker, E400);
    assert.equal(breaker.state(), "CLOSED");
    assert.deepEqual([breaker.snapshot().calls, breaker.snapshot().failedCalls], [10, 0]);
  });

  test("default classification: 429, 5xx, timeout, connect fail; 400/401/protocol pass; abort ignored", () => {
    const v = (kind: UpstreamError["kind"], status?: number) =>
      defaultClassifyError(new UpstreamError(kind, "x", status === undefined ? {} : { status }));
    assert.deepEqual(
      [v("http", 429), v("http", 500), v("http", 503), v("timeout"), v("connect")],
      ["failure", "failure", "failure", "failure", "failure"],
    );
    assert.deepEqual([v("http", 400), v("http", 401), v("protocol")], ["success", "success", "success"]);
    assert.equal(v("aborted"), "ignore");
    assert.equal(defaultClassifyError(new TypeError("bug")), "success");
  });

  test("an ignored error (abort) is not counted at all", () => {
    const { breaker } = setup();
    call(breaker, new UpstreamError("aborted", "client went away"));
    assert.equal(breaker.snapshot().calls, 0);
  });

  test("a custom classifier decides what counts", () => {
    const clock = manualClock();
    const breaker = createCircuitBreaker({ clock, classifyError: () => "failure" });
    for (let i = 0; i < 10; i++) call(breaker, E400);
    assert.equal(breaker.state(), "OPEN");
  });

  test("settling a permission twice counts once", () => {
    const { breaker } = setup();
    const p = breaker.tryAcquire();
    assert.ok(p.allowed);
    breaker.onError(p, 1, E503);
    breaker.onError(p, 1, E503);
    breaker.onSuccess(p, 1);
    assert.deepEqual([breaker.snapshot().calls, breaker.snapshot().failedCalls], [1, 1]);
  });

  test("invalid settings are refused", () => {
    const clock = manualClock();
    assert.throws(() => createCircuitBreaker({ clock, settings: { windowSize: 0 } }), RangeError);
    assert.throws(() => createCircuitBreaker({ clock, settings: { failureRatePct: 101 } }), RangeError);
    assert.throws(() => createCircuitBreaker({ clock, settings: { halfOpenCalls: 1.5 } }), RangeError);
  });
});
