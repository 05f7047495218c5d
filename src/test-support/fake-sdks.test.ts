import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { startFakeAnthropic } from "./fake-anthropic.ts";
import { startFakeOpenAI } from "./fake-openai.ts";
import type { FakeUpstream } from "./fake-server.ts";

/** The fakes are only worth their keep if the official SDKs accept what they send. */

const weatherSchema = {
  type: "object" as const,
  properties: { city: { type: "string" } },
  required: ["city"],
};

describe("fake-openai through the official openai SDK", () => {
  let fake: FakeUpstream;
  let client: OpenAI;
  before(async () => {
    fake = await startFakeOpenAI();
    client = new OpenAI({ baseURL: fake.url, apiKey: "sk-fake", maxRetries: 0 });
  });
  after(() => fake.close());
  beforeEach(() => fake.reset());

  test("plain, streamed with usage, and tool calls", async () => {
    const plain = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(plain.choices[0]?.message.content, fake.knobs.reply);
    assert.ok((plain.usage?.prompt_tokens ?? 0) > 0);

    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: unknown;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? "";
      if (c.usage) usage = c.usage;
    }
    assert.equal(text, fake.knobs.reply);
    assert.ok(usage);

    const runner = client.chat.completions.stream({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Weather in Oslo?" }],
      tools: [{ type: "function", function: { name: "get_weather", parameters: weatherSchema } }],
    });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    assert.ok(call?.type === "function");
    assert.deepEqual(
      [call.function.name, JSON.parse(call.function.arguments)],
      ["get_weather", { city: "fake" }],
    );
    assert.equal(final.choices[0]?.finish_reason, "tool_calls");
    assert.equal(fake.requests, 3);
    assert.equal(fake.lastHeaders?.authorization, "Bearer sk-fake");
  });

  test("an injected 429 reaches the SDK as a RateLimitError with the Retry-After header", async () => {
    fake.failNext(1, 429, { retryAfter: 3 });
    await assert.rejects(
      client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "Hi" }] }),
      (e: unknown) => e instanceof OpenAI.RateLimitError && e.headers?.get("retry-after") === "3",
    );
  });
});

describe("fake-anthropic through the official Anthropic SDK", () => {
  let fake: FakeUpstream;
  let client: Anthropic;
  before(async () => {
    fake = await startFakeAnthropic();
    client = new Anthropic({ baseURL: fake.url, apiKey: "sk-ant-fake", maxRetries: 0 });
  });
  after(() => fake.close());
  beforeEach(() => fake.reset());

  test("plain, streamed, and a streamed tool_use the SDK assembles", async () => {
    const plain = await client.messages.create({
      model: "claude-fake-1",
      max_tokens: 100,
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.deepEqual(plain.content, [{ type: "text", text: fake.knobs.reply }]);

    const text = await client.messages
      .stream({ model: "claude-fake-1", max_tokens: 100, messages: [{ role: "user", content: "Hi" }] })
      .finalText();
    assert.equal(text, fake.knobs.reply);

    const final = await client.messages
      .stream({
        model: "claude-fake-1",
        max_tokens: 100,
        messages: [{ role: "user", content: "Weather in Oslo?" }],
        tools: [{ name: "get_weather", input_schema: weatherSchema }],
      })
      .finalMessage();
    assert.equal(final.stop_reason, "tool_use");
    const tool = final.content.find((b) => b.type === "tool_use");
    assert.deepEqual(tool?.type === "tool_use" && [tool.name, tool.input], ["get_weather", { city: "fake" }]);
    assert.ok(final.usage.output_tokens > 1);
    // SDK 1.x authenticates with a bearer token (older ones sent x-api-key); the fake takes either.
    assert.equal(fake.lastHeaders?.authorization, "Bearer sk-ant-fake");
  });

  test("max_tokens cuts the answer (stop_reason max_tokens); a missing max_tokens is a 400", async () => {
    const cut = await client.messages.create({
      model: "m",
      max_tokens: 2,
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(cut.stop_reason, "max_tokens");
    await assert.rejects(
      client.messages.create({ model: "m", messages: [{ role: "user", content: "Hi" }] } as never),
      (e: unknown) => e instanceof Anthropic.BadRequestError,
    );
  });
});
