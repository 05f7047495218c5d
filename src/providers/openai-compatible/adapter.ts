import { type HttpDeps, parseEventJson, postForJson, postJson, sseEvents } from "../http/upstream.ts";
import { Deadlines } from "../shared/deadlines.ts";
import { primeStream } from "../shared/stream-result.ts";
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
          openAIHeaders(target, false),
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

    async stream(req, target, ctx) {
      const deadlines = new Deadlines(target.timeouts, ctx.signal, target.label);
      let source: AsyncGenerator<ChatChunk>;
      try {
        const body = openAIBody(req, target, true);
        const res = await postJson(
          chatCompletionsUrl(target),
          openAIHeaders(target, true),
          body,
          deadlines,
          deps,
          target.label,
        );
        source = chunksOf(sseEvents(res, deadlines, target.label), target);
      } catch (err) {
        deadlines.dispose();
        throw err;
      }
      return primeStream(source, {
        deadlines,
        label: target.label,
        inputTokens: approxTokens(messageChars(req.messages)),
      });
    },
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
