import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { manualClock } from "../../../lib/clock.ts";
import { retryPolicy, type Sleep } from "../../../providers/http/retry.ts";
import { UpstreamError } from "../../../providers/types.ts";
import type { BreakerSettings } from "./breaker.ts";
import { createBreakerRegistry } from "./breaker-registry.ts";
import { type AttemptContext, executeWithFallback, FallbackError, type FallbackEvent } from "./fallback.ts";

const E503 = () => new UpstreamError("http", "unavailable", { status: 503 });
const E400 = () => new UpstreamError("http", "bad request", { status: 400 });

const A = { id: "ver_a", label: "chat@1.0.0" };
const B = { id: "ver_b", label: "chat@0.9.0" };
const C = { id: "ver_c", label: "chat@0.8.0" };
type T = typeof A;

function harness(breaker: Partial<BreakerSettings> = {}) {
  const clock = manualClock();
  const breakers = createBreakerRegistry({ clock, defaults: breaker });
  const slept: number[] = [];
  const sleep: Sleep = async (ms) => {
    slept.push(ms);
    clock.advance(ms);
  };
  const events: FallbackEvent[] = [];
  const opts = {
    breakers,
    retry: retryPolicy({ maxAttempts: 2, baseMs: 100, maxMs: 1_000, jitter: "none" }),
    clock,
    sleep,
    label: (t: T) => t.label,
    onEvent: (e: FallbackEvent) => events.push(e),
  };
  return { clock, breakers, slept, events, opts };
}

/** Per target, the outcomes of its successive calls ("ok" or an error), each taking `ms` on the clock. */
function upstreams(clock: ReturnType<typeof manualClock>, plan: Record<string, (Error | "ok")[]>, ms = 10) {
  const calls: string[] = [];
  const attempt = async (t: T) => {
    calls.push(t.id);
    clock.advance(ms);
    const next = plan[t.id]?.shift() ?? "ok";
    if (next !== "ok") throw next;
    return `answer from ${t.id}`;
  };
  return { attempt, calls };
}

describe("executeWithFallback", () => {
  test("a healthy primary serves; the path shows it alone", async () => {
    const h = harness();
    const { attempt, calls } = upstreams(h.clock, {});
    const r = await executeWithFallback([A, B], attempt, h.opts);
    assert.equal(r.result, "answer from ver_a");
    assert.equal(r.servedBy, A);
    assert.deepEqual(r.path, [
      { versionId: "ver_a", version: "chat@1.0.0", outcome: "served", attempts: 1, durationMs: 10 },
    ]);
    assert.deepEqual(calls, ["ver_a"]);
  });

  test("primary failing after its retries: the secondary serves, the path says why", async () => {
    const h = harness();
    const { attempt, calls } = upstreams(h.clock, { ver_a: [E503(), E503()] });
    const r = await executeWithFallback([A, B], attempt, h.opts);
    assert.equal(r.servedBy, B);
    assert.deepEqual(calls, ["ver_a", "ver_a", "ver_b"]);
    assert.deepEqual(r.path, [
      {
        versionId: "ver_a",
        version: "chat@1.0.0",
        outcome: "failed",
        reason: "http 503",
        attempts: 2,
        gaveUp: "max_attempts",
        durationMs: 120,
      },
      { versionId: "ver_b", version: "chat@0.9.0", outcome: "served", attempts: 1, durationMs: 10 },
    ]);
    assert.deepEqual(h.slept, [100]);
    assert.equal(h.breakers.get("ver_a").snapshot().failedCalls, 2, "each attempt is a breaker call");
    assert.equal(h.breakers.get("ver_b").snapshot().calls, 1);
    assert.deepEqual(
      h.events.map((e) => `${e.type}:${e.versionId}`),
      ["retry:ver_a", "failed:ver_a", "served:ver_b"],
    );
  });

  test("a primary whose breaker is open is skipped without being called", async () => {
    const h = harness();
    h.breakers.get("ver_a").forceOpen();
    const { attempt, calls } = upstreams(h.clock, {});
    const r = await executeWithFallback([A, B], attempt, h.opts);
    assert.equal(r.servedBy, B);
    assert.deepEqual(calls, ["ver_b"]);
    assert.deepEqual(r.path[0], {
      versionId: "ver_a",
      version: "chat@1.0.0",
      outcome: "skipped",
      reason: "breaker open",
    });
  });

  test("every target failing: a FallbackError carrying the whole path and the last error", async () => {
    const h = harness();
    h.breakers.get("ver_b").forceOpen();
    const last = new UpstreamError("timeout", "no answer");
    const { attempt } = upstreams(h.clock, { ver_a: [E503(), E503()], ver_c: [E503(), last] });
    const err = await executeWithFallback([A, B, C], attempt, h.opts).catch((e: unknown) => e);
    assert.ok(err instanceof FallbackError);
    assert.equal(err.stoppedBy, "exhausted");
    assert.equal(err.cause, last);
    assert.deepEqual(
      err.path.map((s) => [
        s.versionId,
        s.outcome,
        "reason" in s ? s.reason : "",
        "attempts" in s ? s.attempts : 0,
      ]),
      [
        ["ver_a", "failed", "http 503", 2],
        ["ver_b", "skipped", "breaker open", 0],
        ["ver_c", "failed", "timeout", 2],
      ],
    );
    assert.match(err.message, /chat@1\.0\.0 failed \(http 503\), chat@0\.9\.0 skipped \(breaker open\)/);
  });

  test("the client's own 400 neither falls back nor trips the breaker", async () => {
    const h = harness({ minimumCalls: 1 });
    const { attempt, calls } = upstreams(h.clock, { ver_a: [E400()] });
    const err = await executeWithFallback([A, B], attempt, h.opts).catch((e: unknown) => e);
    assert.ok(err instanceof FallbackError);
    assert.equal(err.stoppedBy, "not_fallbackable");
    assert.equal((err.cause as UpstreamError).status, 400);
    assert.deepEqual(calls, ["ver_a"]);
    assert.equal(h.breakers.get("ver_a").state(), "CLOSED");
    assert.equal(h.breakers.get("ver_a").snapshot().failedCalls, 0);
  });

  test("a breaker that opens during the retries stops them and moves on", async () => {
    const h = harness({ minimumCalls: 1 });
    const { attempt, calls } = upstreams(h.clock, { ver_a: [E503()] });
    const r = await executeWithFallback([A, B], attempt, {
      ...h.opts,
      retry: retryPolicy({ maxAttempts: 3 }),
    });
    assert.equal(r.servedBy, B);
    assert.deepEqual(calls, ["ver_a", "ver_b"], "the retry found ver_a's breaker open");
    assert.deepEqual(r.path[0] && { ...r.path[0], durationMs: 0 }, {
      versionId: "ver_a",
      version: "chat@1.0.0",
      outcome: "failed",
      reason: "http 503",
      attempts: 1,
      gaveUp: "breaker_open",
      durationMs: 0,
    });
  });

  test("half-open probes are limited across concurrent requests", async () => {
    const h = harness({ minimumCalls: 1, halfOpenCalls: 1 });
    const a = h.breakers.get("ver_a");
    const p = a.tryAcquire();
    assert.ok(p.allowed);
    a.onError(p, 1, E503());
    h.clock.advance(30_000);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const calls: string[] = [];
    const attempt = async (t: T) => {
      calls.push(t.id);
      if (t.id === "ver_a") await gate;
      return t.id;
    };
    const first = executeWithFallback([A, B], attempt, h.opts);
    const second = await executeWithFallback([A, B], attempt, h.opts);
    assert.equal(second.servedBy, B);
    assert.deepEqual(
      second.path[0] && [second.path[0].outcome, "reason" in second.path[0] && second.path[0].reason],
      ["skipped", "breaker half-open"],
    );
    release();
    assert.equal((await first).servedBy, A);
    assert.equal(a.state(), "CLOSED", "the probe succeeded");
  });

  test("slow answers are recorded with their duration and can open the breaker", async () => {
    const h = harness({ minimumCalls: 2, slowCallMs: 5_000 });
    const { attempt } = upstreams(h.clock, {}, 6_000);
    await executeWithFallback([A], attempt, h.opts);
    await executeWithFallback([A], attempt, h.opts);
    assert.equal(h.breakers.get("ver_a").state(), "OPEN");
    assert.equal(h.breakers.get("ver_a").snapshot().slowCalls, 2);
  });

  test("committed: a failure after bytes reached the client is neither retried nor fallen back", async () => {
    const h = harness();
    const calls: string[] = [];
    const attempt = async (t: T, ctx: AttemptContext) => {
      calls.push(t.id);
      ctx.commit();
      throw E503();
    };
    const err = await executeWithFallback([A, B], attempt, h.opts).catch((e: unknown) => e);
    assert.ok(err instanceof FallbackError);
    assert.equal(err.stoppedBy, "committed");
    assert.deepEqual(calls, ["ver_a"]);
    assert.equal(err.path[0]?.outcome === "failed" && err.path[0].gaveUp, "committed");
    assert.equal(h.breakers.get("ver_a").snapshot().failedCalls, 1, "still counts against the breaker");
  });

  test("deferred outcome: a stream's breaker call is settled when the stream ends", async () => {
    const h = harness({ minimumCalls: 1, halfOpenCalls: 1 });
    const attempt = async (_t: T, ctx: AttemptContext) => ctx.deferOutcome();
    const r = await executeWithFallback([A], attempt, h.opts);
    const a = h.breakers.get("ver_a");
    assert.equal(a.snapshot().calls, 0, "not settled yet");
    h.clock.advance(50);
    r.result.failure(E503());
    assert.equal(a.state(), "OPEN", "the mid-stream failure counted");
    r.result.success();
    assert.equal(a.snapshot().calls, 1, "a handle settles once");
  });

  test("deadline: targets the remaining time cannot reach are skipped", async () => {
    const h = harness();
    const t0 = h.clock.now().getTime();
    const { attempt, calls } = upstreams(h.clock, { ver_a: [E503(), E503()] }, 400);
    const err = await executeWithFallback([A, B, C], attempt, {
      ...h.opts,
      deadline: t0 + 1_000,
      minAttemptMs: 200,
    }).catch((e: unknown) => e);
    assert.ok(err instanceof FallbackError);
    assert.equal(err.stoppedBy, "deadline");
    assert.deepEqual(
      calls,
      ["ver_a", "ver_a"],
      "400 + 100 wait + 400 = 900: 100ms left, under the 200 an attempt needs",
    );
    assert.deepEqual(
      err.path.map((s) => `${s.versionId}:${s.outcome}:${"reason" in s ? s.reason : ""}`),
      ["ver_a:failed:http 503", "ver_b:skipped:deadline exceeded", "ver_c:skipped:deadline exceeded"],
    );
  });

  test("an abort ends the walk: no fallback, the breaker's probe slot is handed back", async () => {
    const h = harness({ minimumCalls: 1, halfOpenCalls: 1 });
    const a = h.breakers.get("ver_a");
    const p = a.tryAcquire();
    assert.ok(p.allowed);
    a.onError(p, 1, E503());
    h.clock.advance(30_000);
    const ac = new AbortController();
    const calls: string[] = [];
    const attempt = async (t: T) => {
      calls.push(t.id);
      ac.abort();
      throw new UpstreamError("connect", "socket destroyed by the abort"); // not the upstream's fault
    };
    const err = await executeWithFallback([A, B], attempt, { ...h.opts, signal: ac.signal }).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof FallbackError);
    assert.equal(err.stoppedBy, "aborted");
    assert.deepEqual(calls, ["ver_a"]);
    assert.equal(a.state(), "HALF_OPEN", "an abort is no verdict on the probe");
    assert.equal(a.tryAcquire().allowed, true, "the probe slot is free again");
  });

  test("an empty chain fails with an empty path", async () => {
    const h = harness();
    const err = await executeWithFallback([], async () => 1, h.opts).catch((e: unknown) => e);
    assert.ok(err instanceof FallbackError);
    assert.deepEqual([err.stoppedBy, err.path], ["exhausted", []]);
  });
});
