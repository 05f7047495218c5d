import { streamCall } from "../http/sse-call.ts";
import { type HttpDeps, parseEventJson, postForJson } from "../http/upstream.ts";
import { Deadlines } from "../shared/deadlines.ts";
import { approxTokens, messageChars } from "../shared/tokens.ts";
import {
  type ChatChunk,
  type ChatRequest,
  type ChatResponse,
  type ProviderAdapter,
  UpstreamError,
  type UpstreamTarget,
  type Usage,
} from "../types.ts";
import { embedOpenAI } from "./embed.ts";
import { chatCompletionsUrl, openAIBody, openAIHeaders } from "./request.ts";

/** OpenAI and every server speaking its Chat Completions API (the canonical format: no translation). */
export function createOpenAIAdapter(
  deps: HttpDeps,
  kind: "openai" | "openai-compatible" = "openai-compatible",
): ProviderAdapter {
  const { clock } = deps;
  return {
    kind,

    async complete(req, target, ctx) {
      const started = clock.now().getTime();
      const deadlines = new Deadlines(target.timeouts, ctx.signal, target.label);
      try {
        const body = openAIBody(req, target, false);
        const json = await postForJson(
          chatCompletionsUrl(target),
          openAIHeaders(target, false, ctx.trace),
          body,
          deadlines,
          deps,
          target.label,
        );
        if (!Array.isArray(json.choices)) {
          throw new UpstreamError("protocol", `${target.label}: not a chat.completion`, { body: json });
        }
        const response = json as ChatResponse;
        return { response, usage: usageOf(response, req), upstreamMs: clock.now().getTime() - started };
      } finally {
        deadlines.dispose();
      }
    },

    stream: (req, target, ctx) =>
      streamCall(req, target, ctx, deps, {
        url: () => chatCompletionsUrl(target),
        headers: () => openAIHeaders(target, true, ctx.trace),
        body: () => openAIBody(req, target, true),
        chunks: (events) => chunksOf(events, target),
      }),

    embed: (req, target, ctx) => embedOpenAI(deps, req, target, ctx),
  };
}

async function* chunksOf(
  events: AsyncIterable<{ data: string }>,
  target: UpstreamTarget,
): AsyncGenerator<ChatChunk> {
  let finished = false;
  for await (const ev of events) {
    // Read on past [DONE] to the end of the body, so the connection is reused.
    if (finished) continue;
    if (ev.data === "[DONE]") {
      finished = true;
      continue;
    }
    const chunk = parseEventJson(ev.data, target.label);
    if (chunk.error !== undefined) {
      // OpenAI reports failures after the 200 as an `error` event; there is no status to go by.
      const message = (chunk.error as { message?: string }).message ?? "error event in stream";
      throw new UpstreamError("protocol", `${target.label}: ${message}`, { body: chunk });
    }
    yield chunk as ChatChunk;
  }
}

function usageOf(res: ChatResponse, req: ChatRequest): Usage {
  if (res.usage) return { inputTokens: res.usage.prompt_tokens, outputTokens: res.usage.completion_tokens };
  const message = res.choices[0]?.message as { content?: unknown } | undefined;
  const text = typeof message?.content === "string" ? message.content : "";
  return { inputTokens: approxTokens(messageChars(req.messages)), outputTokens: approxTokens(text.length) };
}
