import { Deadlines } from "../shared/deadlines.ts";
import { primeStream } from "../shared/stream-result.ts";
import { approxTokens, messageChars } from "../shared/tokens.ts";
import type { CallContext, ChatChunk, ChatRequest, Json, StreamResult, UpstreamTarget } from "../types.ts";
import type { SseEvent } from "./sse.ts";
import { type HttpDeps, postJson, sseEvents } from "./upstream.ts";

/**
 * A streaming call, the same for every HTTP provider: the deadlines, the POST, the answer's
 * SSE events turned into canonical chunks by `chunks`, primed so that the first chunk (or the
 * failure before it) is known before the caller commits to the stream.
 */
export async function streamCall(
  req: ChatRequest,
  target: UpstreamTarget,
  ctx: CallContext,
  deps: HttpDeps,
  call: {
    url: () => string;
    headers: () => Record<string, string>;
    body: () => Json;
    chunks: (events: AsyncGenerator<SseEvent>) => AsyncGenerator<ChatChunk>;
  },
): Promise<StreamResult> {
  const deadlines = new Deadlines(target.timeouts, ctx.signal, target.label);
  let source: AsyncGenerator<ChatChunk>;
  try {
    const res = await postJson(call.url(), call.headers(), call.body(), deadlines, deps, target.label);
    source = call.chunks(sseEvents(res, deadlines, target.label));
  } catch (err) {
    deadlines.dispose();
    throw err;
  }
  return primeStream(source, {
    deadlines,
    label: target.label,
    inputTokens: approxTokens(messageChars(req.messages)),
  });
}
