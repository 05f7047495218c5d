import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { Agent } from "undici";
import { manualClock } from "../../lib/clock.ts";
import { startFakeOpenAI } from "../../test-support/fake-openai.ts";
import type { FakeUpstream } from "../../test-support/fake-server.ts";
import { collect, fixtureJson, fixtureText, sseFixtureEvents } from "../translate/fixture-files.ts";
import { type ChatChunk, type ChatRequest, UpstreamError, type UpstreamTarget } from "../types.ts";
import { createOpenAIAdapter } from "./adapter.ts";

let fake: FakeUpstream;
const clock = manualClock();
const agent = new Agent();
const adapter = createOpenAIAdapter({ dispatcher: agent, clock });
const ctx = () => ({ signal: new AbortController().signal, requestId: "req_openai_1" });

const target = (over: Partial<UpstreamTarget> = {}): UpstreamTarget => ({
  versionId: "ver_1",
  label: "support-bot@2.1.0",
  provider: "openai-compatible",
  providerModelId: "gpt-4o-mini-2024-07-18",
  endpoint: fake.url,
  apiKey: "sk-test-123",
  parameters: {
    temperature: 0.2,
    top_p: 0.95,
    max_tokens: 256,
    timeout_ms: 30_000,
    apiKeyEnv: "OPENAI_API_KEY",
    seed: 42,
  },
  timeouts: { totalMs: 5_000, firstByteMs: 5_000, idleMs: 5_000 },
  ...over,
});

const tools = [
  {
    type: "function",
    function: {
      name: "get_weather",
      parameters: { type: "object", properties: { location: { type: "string" } } },
    },
  },
];
const canonical: ChatRequest = {
  model: "support-bot",
  messages: [
    { role: "system", content: "You are helpful." },
    { role: "user", content: "Weather in Boston?" },
  ],
  temperature: 0.7,
  tools,
  user: "subject-17",
};

before(async () => {
  fake = await startFakeOpenAI();
});
after(async () => {
  await fake.close();
  await agent.close();
});
beforeEach(() => fake.reset());

describe("openai-compatible: what goes upstream", () => {
  test("the exact body: version parameters under the request's, modelgov keys dropped, provider model id", async () => {
    await adapter.complete(canonical, target(), ctx());
    assert.deepEqual(fake.lastBody, {
      model: "gpt-4o-mini-2024-07-18",
      messages: canonical.messages,
      temperature: 0.7,
      top_p: 0.95,
      max_tokens: 256,
      seed: 42,
      tools,
      user: "subject-17",
    });
    assert.equal(fake.lastHeaders?.authorization, "Bearer sk-test-123");
    assert.equal(fake.lastHeaders?.["content-type"], "application/json");
  });

  test("streams ask for usage; a request's max_completion_tokens displaces the version's max_tokens", async () => {
    const s = await adapter.stream(
      { ...canonical, tools: undefined, max_completion_tokens: 100 },
      target(),
      ctx(),
    );
    await collect(s.chunks);
    const body = fake.lastBody ?? {};
    assert.deepEqual(
      [body.stream, body.stream_options, body.max_completion_tokens, "max_tokens" in body],
      [true, { include_usage: true }, 100, false],
    );
    assert.equal(fake.lastHeaders?.accept, "text/event-stream");
  });

  test("a plain call never sends stream flags; no key, no authorization; trailing slash tolerated", async () => {
    await adapter.complete(
      { ...canonical, stream: true, stream_options: { include_usage: true } },
      target({ apiKey: undefined, endpoint: `${fake.url}/` }),
      ctx(),
    );
    assert.equal("stream" in (fake.lastBody ?? {}), false);
    assert.equal("stream_options" in (fake.lastBody ?? {}), false);
    assert.equal(fake.lastHeaders?.authorization, undefined);
  });
});

describe("openai-compatible: what comes back", () => {
  test("a recorded chat.completion passes through unchanged, usage read from it", async () => {
    fake.knobs.replay = { body: fixtureText("openai-response-tool-calls.json") };
    const r = await adapter.complete(canonical, target(), ctx());
    assert.deepEqual(r.response, fixtureJson("openai-response-tool-calls.json"));
    assert.deepEqual(r.usage, { inputTokens: 82, outputTokens: 17 });
  });

  test("a recorded stream arrives chunk for chunk; done has its usage", async () => {
    fake.knobs.replay = {
      contentType: "text/event-stream",
      body: fixtureText("openai-stream-tool-calls.sse"),
    };
    const s = await adapter.stream(canonical, target(), ctx());
    assert.deepEqual(
      await collect(s.chunks),
      await collect(sseFixtureEvents<ChatChunk>("openai-stream-tool-calls.sse")),
    );
    assert.deepEqual(await s.done, { inputTokens: 82, outputTokens: 17 });
  });

  test("a stream without usage (servers ignoring stream_options) gets estimated counts", async () => {
    const withoutUsage = fixtureText("openai-stream-text.sse")
      .split("\n\n")
      .filter((e) => !e.includes('"usage":{'))
      .join("\n\n");
    fake.knobs.replay = { contentType: "text/event-stream", body: withoutUsage };
    const s = await adapter.stream(canonical, target(), ctx());
    const chunks = await collect(s.chunks);
    assert.ok(chunks.every((c) => !c.usage));
    // "The capital of France is Paris." is 31 characters (8 tokens at 4 a token); the prompt 34 (9).
    assert.deepEqual(await s.done, { inputTokens: 9, outputTokens: 8 });
  });

  test("Retry-After as an HTTP date is measured against the injected clock", async () => {
    fake.failNext(1, 429, { retryAfter: "Thu, 01 Jan 2026 00:00:45 GMT" });
    await assert.rejects(adapter.complete(canonical, target(), ctx()), (e: unknown) => {
      return e instanceof UpstreamError && e.status === 429 && e.retryAfterMs === 45_000;
    });
  });

  test("an answer that is not JSON, and an error event mid-stream, are protocol errors", async () => {
    fake.knobs.replay = { body: "<html>bad gateway</html>", contentType: "text/html" };
    await assert.rejects(adapter.complete(canonical, target(), ctx()), { kind: "protocol" });
    fake.knobs.replay = {
      contentType: "text/event-stream",
      body: `${fixtureText("openai-stream-text.sse").split("\n\n")[0]}\n\ndata: {"error":{"message":"The server had an error","type":"server_error"}}\n\n`,
    };
    const s = await adapter.stream(canonical, target(), ctx());
    await assert.rejects(collect(s.chunks), { kind: "protocol", message: /The server had an error/ });
  });
});

describe("openai-compatible: the dispatcher", () => {
  test("carries every call, and an UpstreamError it throws (an egress refusal) passes through", async () => {
    let dispatched = 0;
    const base = new Agent();
    const counting = base.compose((dispatch) => (opts, handler) => {
      dispatched++;
      return dispatch(opts, handler);
    });
    const counted = createOpenAIAdapter({ dispatcher: counting, clock });
    await counted.complete(canonical, target(), ctx());
    await collect((await counted.stream(canonical, target(), ctx())).chunks);
    assert.equal(dispatched, 2);

    const guard = new Agent().compose(() => () => {
      throw new UpstreamError("refused", "egress: 127.0.0.1 is not on the allow-list");
    });
    const guarded = createOpenAIAdapter({ dispatcher: guard, clock });
    const before = fake.requests;
    await assert.rejects(guarded.complete(canonical, target(), ctx()), { kind: "refused" });
    assert.equal(fake.requests, before);
    await base.close();
  });
});
