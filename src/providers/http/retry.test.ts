import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { manualClock } from "../../lib/clock.ts";
import { UpstreamError } from "../types.ts";
import {
  backoffMs,
  DEFAULT_RETRY_POLICY,
  DeadlineExceededError,
  type GiveUpReason,
  type RetryInfo,
  realSleep,
  retryPolicy,
  type Sleep,
  withRetries,
} from "./retry.ts";

const E503 = () => new UpstreamError("http", "unavailable", { status: 503 });
const E429 = (retryAfterMs: number) => new UpstreamError("http", "slow down", { status: 429, retryAfterMs });

/** A fake clock and a sleep that moves it, recording every wait. */
function fakeTime() {
  const clock = manualClock();
  const slept: number[] = [];
  const sleep: Sleep = async (ms) => {
    slept.push(ms);
    clock.advance(ms);
  };
  return { clock, sleep, slept, t0: clock.now().getTime() };
}

/** An upstream that fails with the given errors in turn, then answers "ok". */
function upstream(...errors: Error[]) {
  const calls: number[] = [];
  const fn = async ({ attempt }: { attempt: number }) => {
    calls.push(attempt);
    const e = errors.shift();
    if (e) throw e;
    return "ok";
  };
  return { fn, calls };
}

const noJitter = retryPolicy({ maxAttempts: 3, baseMs: 100, factor: 2, maxMs: 1_000, jitter: "none" });

describe("backoff", () => {
  test("exponential without jitter: 100, 200, 400, 800, then capped at 1000", () => {
    const p = retryPolicy({ baseMs: 100, factor: 2, maxMs: 1_000, jitter: "none" });
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => backoffMs(p, n, Math.random)),
      [100, 200, 400, 800, 1_000, 1_000],
    );
  });

  test("full jitter spans [0, d): random 0 gives 0, random 0.5 gives d/2", () => {
    const p = retryPolicy({ baseMs: 100, factor: 2, maxMs: 1_000, jitter: "full" });
    assert.equal(
      backoffMs(p, 3, () => 0),
      0,
    );
    assert.equal(
      backoffMs(p, 3, () => 0.5),
      200,
    );
    for (let i = 0; i < 1_000; i++) {
      const d = backoffMs(p, 3, Math.random);
      assert.ok(d >= 0 && d < 400, `${d} outside [0, 400)`);
    }
  });

  test("equal jitter spans [d/2, d): random 0 gives d/2, random 0.5 gives 3d/4", () => {
    const p = retryPolicy({ baseMs: 100, factor: 2, maxMs: 1_000, jitter: "equal" });
    assert.equal(
      backoffMs(p, 3, () => 0),
      200,
    );
    assert.equal(
      backoffMs(p, 3, () => 0.5),
      300,
    );
    for (let i = 0; i < 1_000; i++) {
      const d = backoffMs(p, 5, Math.random);
      assert.ok(d >= 500 && d < 1_000, `${d} outside [500, 1000)`);
    }
  });

  test("defaults, and maxRetryAfterMs following maxMs unless given", () => {
    assert.deepEqual(
      { ...DEFAULT_RETRY_POLICY },
      { maxAttempts: 3, baseMs: 200, factor: 2, maxMs: 5_000, jitter: "full", maxRetryAfterMs: 5_000 },
    );
    assert.equal(retryPolicy({ maxMs: 8_000 }).maxRetryAfterMs, 8_000);
    assert.equal(retryPolicy({ maxMs: 8_000, maxRetryAfterMs: 20_000 }).maxRetryAfterMs, 20_000);
    assert.throws(() => retryPolicy({ maxAttempts: 0 }), RangeError);
    assert.throws(() => retryPolicy({ factor: 0.5 }), RangeError);
  });
});

describe("withRetries", () => {
  test("retries retryable errors with the backoff delays, then returns the answer", async () => {
    const { clock, sleep, slept, t0 } = fakeTime();
    const { fn, calls } = upstream(E503(), new UpstreamError("timeout", "slow"));
    const retries: RetryInfo[] = [];
    const r = await withRetries(fn, noJitter, { clock, sleep, onRetry: (i) => retries.push(i) });
    assert.equal(r, "ok");
    assert.deepEqual(calls, [1, 2, 3]);
    assert.deepEqual(slept, [100, 200]);
    assert.equal(clock.now().getTime() - t0, 300);
    assert.deepEqual(
      retries.map((i) => [i.attempt, i.delayMs, i.source]),
      [
        [1, 100, "backoff"],
        [2, 200, "backoff"],
      ],
    );
  });

  test("stops after maxAttempts and rethrows the last error itself", async () => {
    const { clock, sleep } = fakeTime();
    const last = E503();
    const { fn, calls } = upstream(E503(), E503(), last, E503());
    let gaveUp: GiveUpReason | undefined;
    await assert.rejects(
      withRetries(fn, noJitter, { clock, sleep, onGiveUp: (g) => (gaveUp = g.reason) }),
      (e) => e === last,
    );
    assert.deepEqual(calls, [1, 2, 3]);
    assert.equal(gaveUp, "max_attempts");
  });

  test("a non-retryable error (400) is not retried", async () => {
    const { clock, sleep, slept } = fakeTime();
    const bad = new UpstreamError("http", "bad request", { status: 400 });
    const { fn, calls } = upstream(bad);
    await assert.rejects(withRetries(fn, noJitter, { clock, sleep }), (e) => e === bad);
    assert.deepEqual(calls, [1]);
    assert.deepEqual(slept, []);
  });

  test("an error that is not an UpstreamError is not retried", async () => {
    const { clock, sleep } = fakeTime();
    const { fn, calls } = upstream(new TypeError("bug"));
    await assert.rejects(withRetries(fn, noJitter, { clock, sleep }), TypeError);
    assert.deepEqual(calls, [1]);
  });

  test("Retry-After replaces the backoff", async () => {
    const { clock, sleep, slept } = fakeTime();
    const { fn } = upstream(E429(750));
    const sources: string[] = [];
    await withRetries(fn, noJitter, { clock, sleep, onRetry: (i) => sources.push(i.source) });
    assert.deepEqual(slept, [750]);
    assert.deepEqual(sources, ["retry-after"]);
  });

  test("Retry-After is capped at maxMs when maxRetryAfterMs allows it", async () => {
    const { clock, sleep, slept } = fakeTime();
    const p = retryPolicy({ ...noJitter, maxMs: 1_000, maxRetryAfterMs: 3_000 });
    await withRetries(upstream(E429(2_500)).fn, p, { clock, sleep });
    assert.deepEqual(slept, [1_000]);
  });

  test("a Retry-After longer than maxRetryAfterMs gives up at once instead of waiting", async () => {
    const { clock, sleep, slept } = fakeTime();
    const p = retryPolicy({ ...noJitter, maxRetryAfterMs: 1_000 });
    const e = E429(1_001);
    const { fn, calls } = upstream(e);
    let gaveUp: GiveUpReason | undefined;
    await assert.rejects(
      withRetries(fn, p, { clock, sleep, onGiveUp: (g) => (gaveUp = g.reason) }),
      (x) => x === e,
    );
    assert.deepEqual([calls, slept, gaveUp], [[1], [], "retry_after_too_long"]);
  });

  test("does not sleep into a deadline: gives up when the wait would pass it", async () => {
    const { clock, sleep, slept, t0 } = fakeTime();
    const { fn, calls } = upstream(E503(), E503(), E503());
    let gaveUp: GiveUpReason | undefined;
    await assert.rejects(
      withRetries(fn, noJitter, { clock, sleep, deadline: t0 + 250, onGiveUp: (g) => (gaveUp = g.reason) }),
      UpstreamError,
    );
    assert.deepEqual(calls, [1, 2], "t=100 leaves time; t=300 would be past 250");
    assert.deepEqual(slept, [100]);
    assert.equal(gaveUp, "deadline");
  });

  test("minAttemptMs: no attempt starts with less than that left", async () => {
    const { clock, sleep, slept, t0 } = fakeTime();
    const { fn, calls } = upstream(E503(), E503());
    const run = (deadline: number) => withRetries(fn, noJitter, { clock, sleep, deadline, minAttemptMs: 50 });
    await assert.rejects(run(t0 + 149), UpstreamError);
    assert.deepEqual([calls, slept], [[1], []], "100 + 50 > 149");
    const ok = upstream(E503());
    await withRetries(ok.fn, noJitter, {
      clock,
      sleep,
      deadline: clock.now().getTime() + 150,
      minAttemptMs: 50,
    });
    assert.deepEqual(ok.calls, [1, 2], "100 + 50 = 150 just fits");
  });

  test("a deadline already past: no attempt at all", async () => {
    const { clock, sleep, t0 } = fakeTime();
    const { fn, calls } = upstream();
    await assert.rejects(withRetries(fn, noJitter, { clock, sleep, deadline: t0 }), DeadlineExceededError);
    assert.deepEqual(calls, []);
    assert.equal(new DeadlineExceededError().retryable, false);
  });

  test("an abort before the start: no attempt, an aborted UpstreamError", async () => {
    const { clock, sleep } = fakeTime();
    const { fn, calls } = upstream();
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      withRetries(fn, noJitter, { clock, sleep, signal: ac.signal }),
      (e) => e instanceof UpstreamError && e.kind === "aborted",
    );
    assert.deepEqual(calls, []);
  });

  test("an abort during the wait ends it at once, without another attempt", async () => {
    const clock = manualClock();
    const ac = new AbortController();
    const sleep: Sleep = (_ms, signal) =>
      new Promise((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason)));
    const { fn, calls } = upstream(E503(), E503());
    const run = withRetries(fn, noJitter, {
      clock,
      sleep,
      signal: ac.signal,
      onRetry: () => queueMicrotask(() => ac.abort()),
    });
    await assert.rejects(run, (e) => e instanceof UpstreamError && e.kind === "aborted");
    assert.deepEqual(calls, [1]);
  });

  test("an abort during an attempt that ignores the signal still returns at once", async () => {
    const { clock, sleep } = fakeTime();
    const ac = new AbortController();
    let started = 0;
    const hang = () => {
      started++;
      queueMicrotask(() => ac.abort(new UpstreamError("aborted", "client went away")));
      return new Promise<string>(() => {});
    };
    await assert.rejects(
      withRetries(hang, noJitter, { clock, sleep, signal: ac.signal }),
      (e) => e instanceof UpstreamError && e.message === "client went away",
    );
    assert.equal(started, 1);
  });

  test("attemptHonoursSignal: no race is added; the attempt's own abort is what settles the call", async () => {
    const { clock, sleep } = fakeTime();
    const ac = new AbortController();
    let settle: (v: string) => void = () => {};
    const ignoring = () => {
      queueMicrotask(() => ac.abort(new UpstreamError("aborted", "client went away")));
      return new Promise<string>((resolve) => {
        settle = resolve;
      });
    };
    const run = withRetries(ignoring, noJitter, {
      clock,
      sleep,
      signal: ac.signal,
      attemptHonoursSignal: true,
    });
    let done = false;
    void run.then(
      () => (done = true),
      () => (done = true),
    );
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false, "trusted to honour the signal, the attempt alone decides when the call ends");
    settle("late");
    assert.equal(await run, "late");
  });

  test("passes the attempt number, signal and deadline to the attempt", async () => {
    const { clock, sleep, t0 } = fakeTime();
    const ac = new AbortController();
    const seen: unknown[] = [];
    await withRetries(
      async (info) => {
        seen.push(info);
        if (info.attempt === 1) throw E503();
        return 1;
      },
      noJitter,
      { clock, sleep, signal: ac.signal, deadline: t0 + 10_000 },
    );
    assert.deepEqual(seen, [
      { attempt: 1, signal: ac.signal, deadline: t0 + 10_000 },
      { attempt: 2, signal: ac.signal, deadline: t0 + 10_000 },
    ]);
  });

  test("realSleep waits, and rejects at once when aborted", async () => {
    const before = Date.now();
    await realSleep(20);
    assert.ok(Date.now() - before >= 15);
    const ac = new AbortController();
    const long = realSleep(60_000, ac.signal);
    ac.abort();
    await assert.rejects(long, (e) => e instanceof UpstreamError && e.kind === "aborted");
  });
});
