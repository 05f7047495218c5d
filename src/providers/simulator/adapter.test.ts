import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { manualClock } from "../../lib/clock.ts";
import { collect } from "../translate/fixture-files.ts";
import type { CallContext, ChatRequest, Json, UpstreamTarget } from "../types.ts";
import { createSimulatorAdapter } from "./adapter.ts";
import { logNormalLatency, mulberry32 } from "./random.ts";

const adapter = createSimulatorAdapter({ clock: manualClock(), random: () => 0.25 });
const req: ChatRequest = {
  model: "triage",
  messages: [
    { role: "system", content: "Answer medical triage questions." },
    { role: "user", content: "Is a headache after a fall serious?" },
  ],
};
const target = (parameters: Json): UpstreamTarget => ({
  versionId: "ver_sim",
  label: "triage@0.3.0",
  provider: "simulator",
  providerModelId: "sim-triage",
  endpoint: null,
  parameters: { latencyMs: { p50: 0, p95: 0 }, ...parameters },
  timeouts: { totalMs: 5_000, firstByteMs: 5_000, idleMs: 5_000 },
});
const ctx = (requestId: string, groups?: Record<string, string>): CallContext => ({
  signal: new AbortController().signal,
  requestId,
  ...(groups ? { groups } : {}),
});
const simulated = (r: { response: Json }) => (r.response.modelgov as { simulated: Json }).simulated;
const content = (r: { response: { choices: Json[] } }) =>
  (r.response.choices[0]?.message as Json | undefined)?.content as string;

describe("simulator", () => {
  test("the same seed and request id give the same answer; other ids vary", async () => {
    const t = target({ seed: 11, quality: { success: 0.5 } });
    const a = await adapter.complete(req, t, ctx("req_a"));
    const b = await adapter.complete(req, t, ctx("req_a"));
    assert.deepEqual(a.response, b.response);
    const outcomes = new Set<unknown>();
    for (let i = 0; i < 40; i++)
      outcomes.add(simulated(await adapter.complete(req, t, ctx(`req_${i}`))).success);
    assert.deepEqual(outcomes, new Set([true, false]));
  });

  test("answers say whether they succeeded, in the content and in the modelgov extension", async () => {
    const ok = await adapter.complete(req, target({ seed: 1, quality: { success: 1 } }), ctx("r1"));
    assert.match(content(ok), /^SIM-OK .*"Is a headache after a fall serious\?"\.$/);
    assert.deepEqual(simulated(ok), { success: true, probability: 1, latencyMs: 0 });
    const poor = await adapter.complete(req, target({ seed: 1, quality: { success: 0 } }), ctx("r1"));
    assert.match(content(poor), /^SIM-POOR /);
    assert.equal(simulated(poor).success, false);
  });

  test("given the reference answer (an evaluation case), a success answers it and a failure does not", async () => {
    const withRef = { ...ctx("r2"), reference: "billing" };
    const ok = await adapter.complete(req, target({ seed: 1, quality: { success: 1 } }), withRef);
    assert.equal(content(ok), "billing");
    const poor = await adapter.complete(req, target({ seed: 1, quality: { success: 0 } }), withRef);
    assert.match(content(poor), /^SIM-POOR /);
    assert.notEqual(content(poor), "billing");
  });

  test("a retry of the same request draws again: a seeded version does not fail it the same way every time", async () => {
    const t = target({ seed: 7, errorRate: 0.5 });
    const outcome = async (requestId: string, attempt?: number) =>
      adapter.complete(req, t, { ...ctx(requestId), ...(attempt ? { attempt } : {}) }).then(
        () => "ok",
        () => "error",
      );
    // Attempt 1 is the request id's own draw (as before retries were told apart).
    assert.equal(await outcome("r9", 1), await outcome("r9"));
    // Over many requests that failed their first attempt, a second attempt succeeds about half the time.
    let failedFirst = 0;
    let recovered = 0;
    for (let i = 0; i < 200; i++) {
      if ((await outcome(`q${i}`)) === "ok") continue;
      failedFirst++;
      if ((await outcome(`q${i}`, 2)) === "ok") recovered++;
    }
    assert.ok(failedFirst > 50, `${failedFirst} first attempts failed`);
    assert.ok(
      recovered > failedFirst * 0.25 && recovered < failedFirst * 0.75,
      `${recovered} of ${failedFirst}`,
    );
  });

  test("a group's quality overrides the overall one; of several, the lowest applies", async () => {
    const quality = { success: 1, byGroup: { "age_band:65+": 0.2, "language:de": 0.6 } };
    const t = target({ seed: 3, quality });
    const r = await adapter.complete(req, t, ctx("r", { age_band: "65+", language: "de", region: "eu" }));
    assert.deepEqual([simulated(r).probability, simulated(r).group], [0.2, "age_band:65+"]);
    const other = await adapter.complete(req, t, ctx("r", { age_band: "18-34" }));
    assert.deepEqual([simulated(other).probability, simulated(other).group], [1, undefined]);
  });

  test("success rates follow the configured probabilities (2,000 requests each, ±3.5 points)", async () => {
    const t = target({ seed: 5, quality: { success: 0.7, byGroup: { "age_band:65+": 0.4 } } });
    const rate = async (groups?: Record<string, string>) => {
      let ok = 0;
      for (let i = 0; i < 2_000; i++)
        if (simulated(await adapter.complete(req, t, ctx(`q${i}`, groups))).success) ok++;
      return ok / 2_000;
    };
    // Binomial sd at n=2000, p=0.7 is about 1 point: 3.5 points is beyond 3 sd.
    assert.ok(Math.abs((await rate()) - 0.7) < 0.035);
    assert.ok(Math.abs((await rate({ age_band: "65+" })) - 0.4) < 0.035);
  });

  test("errorRate fails that share of calls with a retryable 503", async () => {
    const t = target({ seed: 9, errorRate: 0.3 });
    let failed = 0;
    for (let i = 0; i < 1_000; i++) {
      try {
        await adapter.complete(req, t, ctx(`e${i}`));
      } catch (err) {
        assert.deepEqual(
          [(err as { status?: number }).status, (err as { retryable?: boolean }).retryable],
          [503, true],
        );
        failed++;
      }
    }
    assert.ok(Math.abs(failed / 1_000 - 0.3) < 0.045, `failed ${failed}`);
  });

  test("tokens: output from the parameters (capped by max_tokens, finishing with length), input about chars/4", async () => {
    const r = await adapter.complete(req, target({ tokens: { output: 50 } }), ctx("t"));
    // 32 + 35 characters of messages.
    assert.deepEqual(r.usage, { inputTokens: 17, outputTokens: 50 });
    const pinned = await adapter.complete(
      { ...req, max_tokens: 4 },
      target({ tokens: { input: 900, output: 50 } }),
      ctx("t"),
    );
    assert.deepEqual(pinned.usage, { inputTokens: 900, outputTokens: 4 });
    assert.equal((pinned.response.choices[0] as Json).finish_reason, "length");
    assert.equal(content(pinned).split(" ").length, 4);
  });

  test("a stream delivers the same answer in several chunks, usage and outcome on the last", async () => {
    const t = target({ seed: 2, tokens: { output: 33 } });
    const plain = await adapter.complete(req, t, ctx("s1"));
    const s = await adapter.stream(req, t, ctx("s1"));
    const chunks = await collect(s.chunks);
    assert.ok(chunks.length >= 5);
    const text = chunks
      .map((c) => ((c.choices[0] as { delta?: Json } | undefined)?.delta?.content as string) ?? "")
      .join("");
    assert.equal(text, content(plain));
    const last = chunks.at(-1)!;
    assert.deepEqual(last.usage, plain.response.usage);
    assert.deepEqual((last.modelgov as { simulated: Json }).simulated, simulated(plain));
    assert.deepEqual(await s.done, plain.usage);
  });

  test("latency: a call takes the drawn time", async () => {
    const started = Date.now();
    const r = await adapter.complete(req, target({ latencyMs: { p50: 80, p95: 80 } }), ctx("l"));
    assert.ok(Date.now() - started >= 75);
    assert.equal(simulated(r).latencyMs, 80);
  });

  test("invalid parameters are a protocol error, not a crash", async () => {
    await assert.rejects(adapter.complete(req, target({ errorRate: 2 }), ctx("p")), { kind: "protocol" });
  });
});

describe("simulator randomness", () => {
  test("log-normal latency: median at p50 and 95th percentile at p95 (20,000 draws, ±3%)", () => {
    const rand = mulberry32(12345);
    const draws = Array.from({ length: 20_000 }, () => logNormalLatency(300, 900, rand)).sort(
      (a, b) => a - b,
    );
    const q = (p: number) => draws[Math.floor(p * draws.length)]!;
    assert.ok(Math.abs(q(0.5) / 300 - 1) < 0.03, `median ${q(0.5)}`);
    assert.ok(Math.abs(q(0.95) / 900 - 1) < 0.03, `p95 ${q(0.95)}`);
  });

  test("degenerate latencies: zero stays zero, p95 = p50 is constant", () => {
    const rand = mulberry32(1);
    assert.equal(logNormalLatency(0, 100, rand), 0);
    assert.equal(logNormalLatency(250, 250, rand), 250);
  });

  test("mulberry32 is uniform on [0, 1): mean 1/2 and variance 1/12 over 100,000 draws", () => {
    const rand = mulberry32(42);
    let sum = 0;
    let sq = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const x = rand();
      assert.ok(x >= 0 && x < 1);
      sum += x;
      sq += x * x;
    }
    const mean = sum / n;
    assert.ok(Math.abs(mean - 0.5) < 0.005);
    assert.ok(Math.abs(sq / n - mean * mean - 1 / 12) < 0.002);
  });
});
