import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, test } from "node:test";
import { Agent } from "undici";
import { manualClock } from "../../lib/clock.ts";
import { toFloat32Base64 } from "../shared/embedding.ts";
import type { Json, UpstreamError, UpstreamTarget } from "../types.ts";
import { createOpenAIAdapter } from "./adapter.ts";

/** A loopback upstream: records each request, answers what the test set. */
let server: Server;
let base: string;
let seen: { path: string; headers: IncomingMessage["headers"]; body: Json }[] = [];
let answer: { status: number; body: unknown } = { status: 200, body: {} };

const agent = new Agent();
const adapter = createOpenAIAdapter({ dispatcher: agent, clock: manualClock() }, "openai-compatible");
const ctx = () => ({ signal: new AbortController().signal, requestId: "req_emb_1" });
const target = (parameters: Json = {}): UpstreamTarget => ({
  versionId: "ver_e",
  label: "search@3.0.0",
  provider: "openai-compatible",
  providerModelId: "text-embedding-3-small",
  endpoint: `${base}/v1/`,
  apiKey: "sk-up",
  parameters: { embedding: { dimensions: 4 }, temperature: 0.3, timeout_ms: 9_000, ...parameters },
  timeouts: { totalMs: 5_000, firstByteMs: 5_000, idleMs: 5_000 },
});

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({
        path: req.url ?? "",
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString()),
      });
      const text = JSON.stringify(answer.body);
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((r) => server.close(r));
  await agent.close();
});
beforeEach(() => {
  seen = [];
});

const list = (embeddings: unknown[], usage?: Json) => ({
  object: "list",
  data: embeddings.map((embedding, index) => ({ object: "embedding", index, embedding })),
  model: "text-embedding-3-small",
  ...(usage ? { usage } : {}),
});

describe("openai-compatible embeddings", () => {
  test("POST {endpoint}/embeddings: the provider's model id, the input, dimensions, encoding and user; no sampling defaults", async () => {
    answer = { status: 200, body: list([[0.5, 0.5]], { prompt_tokens: 3, total_tokens: 3 }) };
    const r = await adapter.embed!(
      { input: ["hello there"], dimensions: 2, encoding_format: "float", user: "u-1" },
      target(),
      ctx(),
    );
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.path, "/v1/embeddings");
    assert.equal(seen[0]!.headers.authorization, "Bearer sk-up");
    assert.deepEqual(seen[0]!.body, {
      model: "text-embedding-3-small",
      input: ["hello there"],
      dimensions: 2,
      encoding_format: "float",
      user: "u-1",
    });
    assert.deepEqual(r.vectors, [[0.5, 0.5]]);
    assert.deepEqual(r.usage, { inputTokens: 3, outputTokens: 0 }, "usage as the upstream reported it");
  });

  test("a base64 answer is decoded; vectors are put in input order by index; no usage: estimated", async () => {
    answer = {
      status: 200,
      body: {
        object: "list",
        data: [
          { object: "embedding", index: 1, embedding: toFloat32Base64([1, -2]) },
          { object: "embedding", index: 0, embedding: [0.25, 0.75] },
        ],
      },
    };
    const r = await adapter.embed!(
      { input: ["abcd", [1, 2, 3]], encoding_format: "base64" },
      target(),
      ctx(),
    );
    assert.deepEqual(seen[0]!.body.input, ["abcd", [1, 2, 3]]);
    assert.equal(seen[0]!.body.encoding_format, "base64");
    assert.equal(seen[0]!.body.dimensions, undefined, "the model's full size is its default");
    assert.deepEqual(r.vectors, [
      [0.25, 0.75],
      [1, -2],
    ]);
    assert.equal(r.usage.inputTokens, 1 + 3);
  });

  test("a malformed answer is a protocol error; an upstream 4xx is an http error with its status", async () => {
    answer = { status: 200, body: list([[1]]) };
    await assert.rejects(adapter.embed!({ input: ["a", "b"] }, target(), ctx()), (e: UpstreamError) => {
      assert.equal(e.kind, "protocol");
      assert.match(e.message, /1 vectors for 2 inputs/);
      return true;
    });
    answer = { status: 200, body: list([[1, 2, 3, 4, 5]]) };
    await assert.rejects(adapter.embed!({ input: ["a"] }, target(), ctx()), /longer than the 4 dimensions/);
    answer = { status: 400, body: { error: { message: "bad input", type: "invalid_request_error" } } };
    await assert.rejects(
      adapter.embed!({ input: ["a"] }, target(), ctx()),
      (e: UpstreamError) => e.kind === "http" && e.status === 400 && !e.retryable,
    );
  });
});
