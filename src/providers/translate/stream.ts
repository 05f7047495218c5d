import type { ChatChunk, Json } from "../types.ts";
import type {
  AnthropicContentBlock,
  AnthropicStopReason,
  AnthropicStreamEvent,
  AnthropicUsage,
} from "./anthropic-types.ts";
import type { OpenAIChunkChoice, OpenAIDelta, OpenAIFinishReason, OpenAIUsage } from "./openai-types.ts";
import { anthropicUsageOf, finishReasonOf, openAIUsageOf, stopReasonOf } from "./response.ts";

/** An `error` event inside an Anthropic stream (e.g. overloaded_error after the 200 was sent). */
export class AnthropicStreamError extends Error {
  readonly error: { type: string; message: string };
  constructor(error: { type: string; message: string }) {
    super(`${error.type}: ${error.message}`);
    this.name = "AnthropicStreamError";
    this.error = error;
  }
}

/**
 * Anthropic SSE events → OpenAI chunks. Content blocks become content or tool_calls deltas
 * (tool_use blocks numbered 0, 1, … as OpenAI tool_calls indexes); message_delta becomes
 * the finish chunk and message_stop the usage chunk (`choices: []`), as OpenAI sends them
 * with `stream_options.include_usage`. Thinking blocks and pings have no counterpart.
 */
export async function* anthropicToOpenAIStream(
  events: AsyncIterable<AnthropicStreamEvent>,
  opts: { created?: number; includeUsage?: boolean } = {},
): AsyncGenerator<ChatChunk> {
  const created = opts.created ?? Math.floor(Date.now() / 1000);
  let id = "";
  let model = "";
  let usage: Partial<AnthropicUsage> = {};
  const toolIndexOfBlock = new Map<number, number>();
  const chunk = (delta: OpenAIDelta, finish: OpenAIFinishReason | null = null): ChatChunk => {
    const choice: OpenAIChunkChoice = { index: 0, delta, logprobs: null, finish_reason: finish };
    return { id, object: "chat.completion.chunk", created, model, choices: [choice] };
  };

  for await (const ev of events) {
    switch (ev.type) {
      case "message_start":
        id = ev.message.id;
        model = ev.message.model;
        usage = { ...ev.message.usage };
        yield chunk({ role: "assistant", content: "" });
        break;
      case "content_block_start": {
        const b = ev.content_block;
        if (b.type === "tool_use") {
          const index = toolIndexOfBlock.size;
          toolIndexOfBlock.set(ev.index, index);
          const args = b.input && Object.keys(b.input).length > 0 ? JSON.stringify(b.input) : "";
          yield chunk({
            tool_calls: [{ index, id: b.id, type: "function", function: { name: b.name, arguments: args } }],
          });
        } else if (b.type === "text" && b.text) {
          yield chunk({ content: b.text });
        }
        break;
      }
      case "content_block_delta": {
        const d = ev.delta;
        if (d.type === "text_delta") yield chunk({ content: d.text });
        else if (d.type === "input_json_delta" && d.partial_json) {
          const index = toolIndexOfBlock.get(ev.index);
          if (index !== undefined)
            yield chunk({ tool_calls: [{ index, function: { arguments: d.partial_json } }] });
        }
        break;
      }
      case "message_delta":
        for (const [k, v] of Object.entries(ev.usage)) if (typeof v === "number") (usage as Json)[k] = v;
        yield chunk({}, finishReasonOf(ev.delta.stop_reason) ?? "stop");
        break;
      case "message_stop":
        if (opts.includeUsage !== false) yield { ...chunk({}), choices: [], usage: openAIUsageOf(usage) };
        break;
      case "error":
        throw new AnthropicStreamError(ev.error);
    }
  }
}

/**
 * OpenAI chunks → Anthropic SSE events. Each run of content or each tool call opens a
 * content block, closed when the next one opens (OpenAI streams tool calls one after the
 * other). message_delta is held back until the input ends because OpenAI reports usage
 * after the finish chunk; without usage, output tokens are estimated at 4 characters each.
 * `id` and `model`, when given, replace the chunks' own (e.g. to report the public model name).
 */
export async function* openAIToAnthropicStream(
  chunks: AsyncIterable<ChatChunk>,
  opts: { id?: string; model?: string; inputTokens?: number } = {},
): AsyncGenerator<AnthropicStreamEvent> {
  let started = false;
  let nextBlock = 0;
  let open: number | undefined;
  let openKind: "text" | "tool" | undefined;
  const blockOfTool = new Map<number, number>();
  let stop: AnthropicStopReason | null = null;
  let usage: OpenAIUsage | undefined;
  let outputChars = 0;

  const start = (id: string, model: string): AnthropicStreamEvent => ({
    type: "message_start",
    message: {
      id,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: opts.inputTokens ?? 0, output_tokens: 0 },
    },
  });
  function* openBlock(kind: "text" | "tool", block: AnthropicContentBlock): Generator<AnthropicStreamEvent> {
    yield* closeBlock();
    open = nextBlock++;
    openKind = kind;
    yield { type: "content_block_start", index: open, content_block: block };
  }
  function* closeBlock(): Generator<AnthropicStreamEvent> {
    if (open !== undefined) yield { type: "content_block_stop", index: open };
    open = undefined;
    openKind = undefined;
  }

  for await (const c of chunks) {
    if (!started) {
      started = true;
      yield start(opts.id ?? c.id ?? "", opts.model ?? c.model ?? "");
    }
    if (c.usage) usage = c.usage as OpenAIUsage;
    const choice = c.choices[0] as OpenAIChunkChoice | undefined;
    if (!choice) continue;
    const d = choice.delta ?? {};
    const text = (d.content ?? "") + (d.refusal ?? "");
    if (text) {
      if (openKind !== "text") yield* openBlock("text", { type: "text", text: "" });
      outputChars += text.length;
      yield { type: "content_block_delta", index: open!, delta: { type: "text_delta", text } };
    }
    for (const tc of d.tool_calls ?? []) {
      let index = blockOfTool.get(tc.index);
      if (index === undefined) {
        const name = tc.function?.name ?? "";
        yield* openBlock("tool", { type: "tool_use", id: tc.id ?? `toolu_${nextBlock}`, name, input: {} });
        index = open!;
        blockOfTool.set(tc.index, index);
      }
      const args = tc.function?.arguments;
      if (args) {
        outputChars += args.length;
        yield { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: args } };
      }
    }
    if (choice.finish_reason) stop = stopReasonOf(choice.finish_reason);
  }

  if (!started) yield start(opts.id ?? "", opts.model ?? "");
  yield* closeBlock();
  const final = usage
    ? anthropicUsageOf(usage)
    : { input_tokens: opts.inputTokens ?? 0, output_tokens: Math.ceil(outputChars / 4) };
  yield {
    type: "message_delta",
    delta: { stop_reason: stop ?? "end_turn", stop_sequence: null },
    usage: final,
  };
  yield { type: "message_stop" };
}
