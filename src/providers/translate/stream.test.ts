import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ChatChunk, Json } from "../types.ts";
import type { AnthropicStreamEvent } from "./anthropic-types.ts";
import { collect, sseFixtureEvents } from "./fixture-files.ts";
import { AnthropicStreamError, anthropicToOpenAIStream, openAIToAnthropicStream } from "./stream.ts";

const CREATED = 1767225600;
const anthropicEvents = (name: string) => sseFixtureEvents<AnthropicStreamEvent>(name);
const openAIChunks = (name: string) => sseFixtureEvents<ChatChunk>(name);

/** [delta, finish_reason] of each chunk; usage chunks as ["usage", usage]. */
function shape(chunks: ChatChunk[]): unknown[] {
  return chunks.map((c) => {
    if (c.choices.length === 0) return ["usage", c.usage];
    const choice = c.choices[0] as { delta: Json; finish_reason: string | null };
    return [choice.delta, choice.finish_reason];
  });
}

/** The message an Anthropic client assembles from events. */
function assembleAnthropic(events: AnthropicStreamEvent[]) {
  const blocks: Json[] = [];
  const json: string[] = [];
  let stop: unknown;
  let usage: Json = {};
  for (const ev of events) {
    if (ev.type === "message_start") usage = { ...ev.message.usage };
    if (ev.type === "content_block_start") blocks[ev.index] = { ...ev.content_block };
    if (ev.type === "content_block_delta") {
      const b = blocks[ev.index]!;
      if (ev.delta.type === "text_delta") b.text = String(b.text) + ev.delta.text;
      if (ev.delta.type === "input_json_delta")
        json[ev.index] = (json[ev.index] ?? "") + ev.delta.partial_json;
    }
    if (ev.type === "message_delta") {
      stop = ev.delta.stop_reason;
      usage = { ...usage, ...ev.usage };
    }
  }
  json.forEach((j, i) => {
    if (j) blocks[i]!.input = JSON.parse(j);
  });
  return { blocks, stop, output: usage.output_tokens };
}

describe("Anthropic stream → OpenAI chunks", () => {
  test("text then a streamed tool_use (recorded): content deltas, tool_calls deltas, finish, usage", async () => {
    const chunks = await collect(
      anthropicToOpenAIStream(anthropicEvents("anthropic-stream-tool-use.sse"), { created: CREATED }),
    );
    const call = (fn: Json, extra: Json = {}) => ({ tool_calls: [{ index: 0, ...extra, function: fn }] });
    assert.deepEqual(shape(chunks), [
      [{ role: "assistant", content: "" }, null],
      [{ content: "Okay" }, null],
      [{ content: ", let's check the weather for San Francisco, CA:" }, null],
      [
        call(
          { name: "get_weather", arguments: "" },
          { id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", type: "function" },
        ),
        null,
      ],
      [call({ arguments: '{"location":' }), null],
      [call({ arguments: ' "San Francisco, CA"}' }), null],
      [{}, "tool_calls"],
      ["usage", { prompt_tokens: 472, completion_tokens: 89, total_tokens: 561 }],
    ]);
    for (const c of chunks) {
      assert.deepEqual(
        [c.id, c.object, c.created, c.model],
        ["msg_014p7gG3wDgGV9EUtLvnow3U", "chat.completion.chunk", CREATED, "claude-sonnet-4-5-20250929"],
      );
    }
  });

  test("CRLF stream cut by max_tokens, split mid-UTF-8: finish length, cached usage", async () => {
    const chunks = await collect(
      anthropicToOpenAIStream(anthropicEvents("anthropic-stream-text-max-tokens.sse")),
    );
    const text = chunks
      .map((c) => (c.choices[0] as { delta: Json } | undefined)?.delta.content ?? "")
      .join("");
    assert.equal(text, "Hello — bonjour, grüß dich");
    assert.deepEqual(shape(chunks).slice(-2), [
      [{}, "length"],
      [
        "usage",
        {
          prompt_tokens: 1225,
          completion_tokens: 8,
          total_tokens: 1233,
          prompt_tokens_details: { cached_tokens: 1200 },
        },
      ],
    ]);
  });

  test("without includeUsage there is no usage chunk", async () => {
    const chunks = await collect(
      anthropicToOpenAIStream(anthropicEvents("anthropic-stream-tool-use.sse"), { includeUsage: false }),
    );
    assert.ok(chunks.every((c) => c.usage === undefined && c.choices.length === 1));
  });

  test("an error event (recorded overloaded_error) throws after what was streamed", async () => {
    const seen: ChatChunk[] = [];
    await assert.rejects(
      (async () => {
        for await (const c of anthropicToOpenAIStream(anthropicEvents("anthropic-stream-overloaded.sse")))
          seen.push(c);
      })(),
      (err: unknown) => err instanceof AnthropicStreamError && err.error.type === "overloaded_error",
    );
    assert.deepEqual(shape(seen), [
      [{ role: "assistant", content: "" }, null],
      [{ content: "Partial" }, null],
    ]);
  });
});

describe("OpenAI chunks → Anthropic stream", () => {
  test("parallel tool calls (recorded) become one tool_use block each, usage in message_delta", async () => {
    const events = await collect(
      openAIToAnthropicStream(openAIChunks("openai-stream-tool-calls.sse"), { inputTokens: 80 }),
    );
    const json = (index: number, partial_json: string) => ({
      type: "content_block_delta",
      index,
      delta: { type: "input_json_delta", partial_json },
    });
    assert.deepEqual(events, [
      {
        type: "message_start",
        message: {
          id: "chatcmpl-BLx0Tool",
          type: "message",
          role: "assistant",
          model: "gpt-4o-mini-2024-07-18",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 80, output_tokens: 0 },
        },
      },
      {
        type: "content_block_start",
        index: 0,
        content_block: { type: "tool_use", id: "call_abc123", name: "get_weather", input: {} },
      },
      json(0, '{"lo'),
      json(0, 'cation": "Boston, MA"}'),
      { type: "content_block_stop", index: 0 },
      {
        type: "content_block_start",
        index: 1,
        content_block: { type: "tool_use", id: "call_def456", name: "get_time", input: {} },
      },
      json(1, '{"timezone": "America/New_York"}'),
      { type: "content_block_stop", index: 1 },
      {
        type: "message_delta",
        delta: { stop_reason: "tool_use", stop_sequence: null },
        usage: { input_tokens: 82, output_tokens: 17 },
      },
      { type: "message_stop" },
    ]);
  });

  test("text (recorded) becomes one text block; cached prompt tokens come back as cache reads", async () => {
    const events = await collect(openAIToAnthropicStream(openAIChunks("openai-stream-text.sse")));
    assert.deepEqual(
      events.map((e) => e.type),
      [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
      ],
    );
    const { blocks, stop } = assembleAnthropic(events);
    assert.deepEqual(blocks, [{ type: "text", text: "The capital of France is Paris." }]);
    assert.equal(stop, "end_turn");
    assert.deepEqual(
      events.find((e) => e.type === "message_delta"),
      {
        type: "message_delta",
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: { input_tokens: 210, output_tokens: 7, cache_read_input_tokens: 1024 },
      },
    );
  });

  test("without a usage chunk, output tokens are estimated from the characters streamed", async () => {
    async function* noUsage() {
      for await (const c of openAIChunks("openai-stream-text.sse")) if (!c.usage) yield c;
    }
    const events = await collect(openAIToAnthropicStream(noUsage(), { inputTokens: 9 }));
    const delta = events.find((e) => e.type === "message_delta");
    assert.deepEqual(delta?.type === "message_delta" && delta.usage, { input_tokens: 9, output_tokens: 8 });
  });

  test("an empty input still makes a well-formed message", async () => {
    const events = await collect(
      openAIToAnthropicStream((async function* () {})(), { id: "msg_x", model: "m" }),
    );
    assert.deepEqual(
      events.map((e) => e.type),
      ["message_start", "message_delta", "message_stop"],
    );
  });
});

describe("stream round trips", () => {
  test("Anthropic → OpenAI → Anthropic assembles to the same message", async () => {
    const original = await collect(anthropicEvents("anthropic-stream-tool-use.sse"));
    const back = await collect(
      openAIToAnthropicStream(anthropicToOpenAIStream(anthropicEvents("anthropic-stream-tool-use.sse"))),
    );
    const a = assembleAnthropic(original);
    const b = assembleAnthropic(back);
    assert.deepEqual(b, a);
    assert.deepEqual(a.blocks[1], {
      type: "tool_use",
      id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
      name: "get_weather",
      input: { location: "San Francisco, CA" },
    });
  });

  test("OpenAI → Anthropic → OpenAI keeps content, tool calls, finish reason and usage", async () => {
    for (const name of ["openai-stream-text.sse", "openai-stream-tool-calls.sse"]) {
      const original = await collect(openAIChunks(name));
      const back = await collect(anthropicToOpenAIStream(openAIToAnthropicStream(openAIChunks(name))));
      const summary = (chunks: ChatChunk[]) => {
        const deltas = chunks.flatMap(
          (c) => c.choices as Array<{ delta: Json; finish_reason: string | null }>,
        );
        return {
          text: deltas.map((d) => d.delta.content ?? "").join(""),
          args: deltas.flatMap((d) =>
            ((d.delta.tool_calls as Json[] | undefined) ?? []).map((t) => [
              t.index,
              (t.function as Json).arguments,
            ]),
          ),
          finish: deltas.map((d) => d.finish_reason).find(Boolean),
          usage: [chunks.at(-1)?.usage?.prompt_tokens, chunks.at(-1)?.usage?.completion_tokens],
        };
      };
      assert.deepEqual(summary(back), summary(original), name);
    }
  });
});
