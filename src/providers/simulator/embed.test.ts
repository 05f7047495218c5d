import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { manualClock } from "../../lib/clock.ts";
import { type Json, UpstreamError, type UpstreamTarget } from "../types.ts";
import { createSimulatorAdapter } from "./adapter.ts";
import { SimulatorParametersSchema } from "./registration.ts";

const adapter = createSimulatorAdapter({ clock: manualClock(), random: () => 0.25 });
const target = (parameters: Json): UpstreamTarget => ({
  versionId: "ver_emb",
  label: "support-embeddings@1.0.0",
  provider: "simulator",
  providerModelId: "sim-embeddings",
  endpoint: null,
  // As the registry stores them: validated, defaults filled.
  parameters: SimulatorParametersSchema.parse({ latencyMs: { p50: 0, p95: 0 }, ...parameters }),
  timeouts: { totalMs: 5_000, firstByteMs: 5_000, idleMs: 5_000 },
});
const ctx = (requestId: string) => ({ signal: new AbortController().signal, requestId });
const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const embed = (parameters: Json, input: Array<string | number[]>, dimensions?: number, id = "req_1") =>
  adapter.embed!({ input, ...(dimensions ? { dimensions } : {}) }, target(parameters), ctx(id));

describe("simulator embeddings", () => {
  test("the same text gets the same unit vector in every request; other texts and seeds differ", async () => {
    const p = { embedding: { dimensions: 32 }, seed: 7 };
    const a = await embed(p, ["refund please", "where is my order"], undefined, "req_a");
    const b = await embed(p, ["where is my order"], undefined, "req_b");
    assert.equal(a.vectors.length, 2);
    assert.equal(a.vectors[0]!.length, 32);
    assert.deepEqual(a.vectors[1], b.vectors[0]);
    assert.notDeepEqual(a.vectors[0], a.vectors[1]);
    assert.ok(Math.abs(norm(a.vectors[0]!) - 1) < 1e-6);
    const other = await embed({ ...p, seed: 8 }, ["where is my order"]);
    assert.notDeepEqual(other.vectors[0], b.vectors[0]);
    // Every value is a float32, so the base64 encoding loses nothing.
    assert.ok(a.vectors[0]!.every((x) => Math.fround(x) === x));
  });

  test("fewer dimensions: the full vector's prefix, renormalised; more than the version's are refused", async () => {
    const p = { embedding: { dimensions: 16 }, seed: 1 };
    const full = (await embed(p, ["hi"])).vectors[0]!;
    const short = (await embed(p, ["hi"], 4)).vectors[0]!;
    assert.equal(short.length, 4);
    const head = full.slice(0, 4);
    const scale = norm(head);
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(short[i]! - head[i]! / scale) < 1e-6);
    await assert.rejects(embed(p, ["hi"], 17), (e: UpstreamError) => {
      assert.equal(e.status, 400);
      assert.match(e.message, /dimensions: at most 16 for this model, got 17/);
      return true;
    });
  });

  test("token arrays embed too; tokens are estimated (text ~4 characters a token), or the version's count", async () => {
    const r = await embed({ embedding: {} }, ["12345678", [5, 6, 7]]);
    assert.equal(r.vectors[1]!.length, 256, "the default dimensions");
    assert.deepEqual(r.usage, { inputTokens: 2 + 3, outputTokens: 0 });
    const fixed = await embed({ embedding: {}, tokens: { input: 9, output: 1 } }, ["12345678"]);
    assert.equal(fixed.usage.inputTokens, 9);
  });

  test("errors as on the chat side; a chat version refuses embeddings and an embedding version refuses chat", async () => {
    await assert.rejects(
      embed({ embedding: {}, errorRate: 1 }, ["x"]),
      (e: UpstreamError) => e.status === 503,
    );
    await assert.rejects(embed({}, ["x"]), /not an embedding model/);
    await assert.rejects(
      adapter.complete(
        { model: "m", messages: [{ role: "user", content: "hi" }] },
        target({ embedding: {} }),
        ctx("r"),
      ),
      (e: UpstreamError) =>
        e instanceof UpstreamError && e.status === 400 && /embedding model/.test(e.message),
    );
  });
});
