import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { Agent } from "undici";
import { manualClock } from "../../lib/clock.ts";
import { startFakeAnthropic } from "../../test-support/fake-anthropic.ts";
import type { FakeUpstream } from "../../test-support/fake-server.ts";
import type { AnthropicRequest } from "../translate/anthropic-types.ts";
import { collect, fixtureJson, fixtureText } from "../translate/fixture-files.ts";
import type { ChatRequest, Json, UpstreamTarget } from "../types.ts";
import { UpstreamError } from "../types.ts";
import { createAnthropicAdapter } from "./adapter.ts";

let fake: FakeUpstream;
// 2026-01-01T00:00:00Z, the `created` of the recorded translations.
const clock = manualClock();
const agent = new Agent();
const adapter = createAnthropicAdapter({ dispatcher: agent, clock });
const ctx = () => ({ signal: new AbortController().signal, requestId: "req_anthropic_1" });

const target = (over: Partial<UpstreamTarget> = {}): UpstreamTarget => ({
  versionId: "ver_2",
  label: "weather-bot@1.0.0",
  provider: "anthropic",
  providerModelId: "claude-sonnet-4-5",
  endpoint: fake.url,
  apiKey: "sk-ant-test",
  parameters: { max_tokens: 2048, temperature: 0.2, top_k: 40, timeout_ms: 20_000 },
  timeouts: { totalMs: 5_000, firstByteMs: 5_000, idleMs: 5_000 },
  ...over,
});

before(async () => {
  fake = await startFakeAnthropic();
});
after(async () => {
  await fake.close();
  await agent.close();
});
beforeEach(() => fake.reset());

describe("anthropic: what goes upstream", () => {
  test("the recorded canonical request becomes the recorded Messages request, plus Anthropic-only version parameters", async () => {
    const canonical = { ...fixtureJson<ChatRequest>("openai-request-tools.json"), model: "weather-bot" };
    await adapter.complete(canonical, target(), ctx());
    // The request's own max_tokens (1024) and temperature (0.3) win over the version's; top_k is Anthropic's own.
    assert.deepEqual(fake.lastBody, {
      ...fixtureJson<AnthropicRequest>("anthropic-request-tools.json"),
      top_k: 40,
    });
    const h = fake.lastHeaders ?? {};
    assert.deepEqual(
      [h["x-api-key"], h["anthropic-version"], h.authorization],
      ["sk-ant-test", "2023-06-01", undefined],
    );
  });

  test("the version's max_tokens is the default limit; streams send stream:true and no stream_options", async () => {
    const s = await adapter.stream(
      {
        model: "weather-bot",
        messages: [{ role: "user", content: "Hi" }],
        stream: true,
        stream_options: { include_usage: true },
      },
      target(),
      ctx(),
    );
    await collect(s.chunks);
    assert.deepEqual(fake.lastBody, {
      model: "claude-sonnet-4-5",
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: 2048,
      temperature: 0.2,
      top_k: 40,
      stream: true,
    });
  });
});

describe("anthropic: what comes back", () => {
  test("a recorded Messages response becomes the recorded chat.completion", async () => {
    fake.knobs.replay = { body: fixtureText("anthropic-response-tool-use.json") };
    const r = await adapter.complete(
      { model: "x", messages: [{ role: "user", content: "Weather?" }] },
      target(),
      ctx(),
    );
    assert.deepEqual(r.response, fixtureJson("openai-response-from-tool-use.json"));
    assert.deepEqual(r.usage, { inputTokens: 472, outputTokens: 89 });
  });

  test("a recorded event stream becomes canonical chunks; done has the usage", async () => {
    fake.knobs.replay = {
      contentType: "text/event-stream",
      body: fixtureText("anthropic-stream-tool-use.sse"),
    };
    const s = await adapter.stream(
      { model: "x", messages: [{ role: "user", content: "Weather?" }] },
      target(),
      ctx(),
    );
    const chunks = await collect(s.chunks);
    const deltas = chunks.flatMap((c) => c.choices as Array<{ delta: Json; finish_reason: string | null }>);
    assert.equal(
      deltas.map((d) => d.delta.content ?? "").join(""),
      "Okay, let's check the weather for San Francisco, CA:",
    );
    const args = deltas.flatMap((d) => (d.delta.tool_calls as Array<{ function: Json }> | undefined) ?? []);
    assert.equal(args.map((a) => a.function.arguments).join(""), '{"location": "San Francisco, CA"}');
    assert.equal(deltas.at(-1)?.finish_reason, "tool_calls");
    assert.deepEqual(chunks.at(-1)?.usage, { prompt_tokens: 472, completion_tokens: 89, total_tokens: 561 });
    assert.deepEqual(await s.done, { inputTokens: 472, outputTokens: 89 });
  });

  test("an overloaded_error event mid-stream is an http 529, retryable", async () => {
    fake.knobs.replay = {
      contentType: "text/event-stream",
      body: fixtureText("anthropic-stream-overloaded.sse"),
    };
    const s = await adapter.stream(
      { model: "x", messages: [{ role: "user", content: "Hi" }] },
      target(),
      ctx(),
    );
    await assert.rejects(collect(s.chunks), (e: unknown) => {
      return e instanceof UpstreamError && e.kind === "http" && e.status === 529 && e.retryable;
    });
  });

  test("an error answer keeps Anthropic's body and message", async () => {
    fake.failNext(1, 529);
    await assert.rejects(
      adapter.complete({ model: "x", messages: [{ role: "user", content: "Hi" }] }, target(), ctx()),
      (e: unknown) => {
        assert.ok(e instanceof UpstreamError);
        assert.deepEqual(e.body, {
          type: "error",
          error: { type: "overloaded_error", message: "injected failure (HTTP 529)" },
        });
        assert.match(e.message, /weather-bot@1\.0\.0: HTTP 529: injected failure/);
        return e.retryable;
      },
    );
  });

  test("an answer that is not a Messages response is a protocol error", async () => {
    fake.knobs.replay = { body: JSON.stringify({ object: "chat.completion", choices: [] }) };
    await assert.rejects(
      adapter.complete({ model: "x", messages: [{ role: "user", content: "Hi" }] }, target(), ctx()),
      { kind: "protocol" },
    );
  });
});
