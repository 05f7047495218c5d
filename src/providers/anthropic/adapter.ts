import { streamCall } from "../http/sse-call.ts";
import { type HttpDeps, parseEventJson, postForJson } from "../http/upstream.ts";
import { Deadlines } from "../shared/deadlines.ts";
import {
  ANTHROPIC_ERROR_STATUS,
  type AnthropicResponse,
  AnthropicStreamError,
  type AnthropicStreamEvent,
  anthropicToOpenAIResponse,
  anthropicToOpenAIStream,
} from "../translate/index.ts";
import { type ChatChunk, type ProviderAdapter, UpstreamError, type UpstreamTarget } from "../types.ts";
import { anthropicBody, anthropicHeaders, countTokensBody, countTokensUrl, messagesUrl } from "./request.ts";

/** Anthropic's Messages API behind the canonical (OpenAI) contract, both ways through translate/. */
export function createAnthropicAdapter(deps: HttpDeps): ProviderAdapter {
  const { clock } = deps;
  const created = () => Math.floor(clock.now().getTime() / 1000);
  return {
    kind: "anthropic",

    async complete(req, target, ctx) {
      const started = clock.now().getTime();
      const deadlines = new Deadlines(target.timeouts, ctx.signal, target.label);
      try {
        const body = anthropicBody(req, target, false);
        const json = await postForJson(
          messagesUrl(target),
          anthropicHeaders(target, false, ctx.trace),
          body,
          deadlines,
          deps,
          target.label,
        );
        if (json.type !== "message" || !Array.isArray(json.content)) {
          throw new UpstreamError("protocol", `${target.label}: not a Messages response`, { body: json });
        }
        const message = json as unknown as AnthropicResponse;
        return {
          response: anthropicToOpenAIResponse(message, { created: created() }),
          usage: {
            inputTokens: inputTokensOf(message.usage),
            outputTokens: message.usage?.output_tokens ?? 0,
          },
          upstreamMs: clock.now().getTime() - started,
        };
      } finally {
        deadlines.dispose();
      }
    },

    async countTokens(req, target, ctx) {
      const deadlines = new Deadlines(target.timeouts, ctx.signal, target.label);
      try {
        const json = await postForJson(
          countTokensUrl(target),
          anthropicHeaders(target, false),
          countTokensBody(req, target),
          deadlines,
          deps,
          target.label,
        );
        if (typeof json.input_tokens !== "number")
          throw new UpstreamError("protocol", `${target.label}: not a count_tokens response`, { body: json });
        return json.input_tokens;
      } finally {
        deadlines.dispose();
      }
    },

    stream: (req, target, ctx) =>
      streamCall(req, target, ctx, deps, {
        url: () => messagesUrl(target),
        headers: () => anthropicHeaders(target, true, ctx.trace),
        body: () => anthropicBody(req, target, true),
        chunks: (events) =>
          withStreamErrors(anthropicToOpenAIStream(eventsOf(events, target), { created: created() }), target),
      }),
  };
}

function inputTokensOf(u: AnthropicResponse["usage"] | undefined): number {
  return (u?.input_tokens ?? 0) + (u?.cache_read_input_tokens ?? 0) + (u?.cache_creation_input_tokens ?? 0);
}

async function* eventsOf(
  events: AsyncIterable<{ data: string }>,
  target: UpstreamTarget,
): AsyncGenerator<AnthropicStreamEvent> {
  for await (const ev of events) {
    const parsed = parseEventJson(ev.data, target.label);
    if (typeof parsed.type !== "string") {
      throw new UpstreamError("protocol", `${target.label}: a stream event without a type`, { body: parsed });
    }
    yield parsed as AnthropicStreamEvent;
  }
}

/** An `error` event after the 200 carries an error type; its documented status tells retryable from not. */
async function* withStreamErrors(
  chunks: AsyncGenerator<ChatChunk>,
  target: UpstreamTarget,
): AsyncGenerator<ChatChunk> {
  try {
    yield* chunks;
  } catch (err) {
    if (!(err instanceof AnthropicStreamError)) throw err;
    const status = ANTHROPIC_ERROR_STATUS[err.error.type] ?? 500;
    throw new UpstreamError("http", `${target.label}: ${err.message}`, {
      status,
      body: { type: "error", error: err.error },
    });
  }
}
