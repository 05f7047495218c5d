import { chatToCompletionStream, chatToResponsesStream } from "../../../../providers/translate/index.ts";
import type { ChatChunk, Json } from "../../../../providers/types.ts";
import { asksForJson, StreamedAnswer } from "../../features/derive.ts";
import type { AnswerFacts } from "../../tracing/index.ts";
import { startSse, writeSse } from "../respond.ts";
import { attemptOn, type ChatCall, servedHeaders, walkChain } from "./call.ts";
import { elapsedMs, keepBodies, type Outcome } from "./log-entry.ts";

/** A streamed answer: fall back only until the first chunk; after that the client owns the stream. */
export async function stream(call: ChatCall): Promise<Outcome> {
  const { deps, chat, res, dialect } = call;
  const upstreamStart = performance.now();
  const out = await walkChain(call, (v, signal, n) =>
    attemptOn(call, v, signal, n, async (ctx, span) => {
      const s = await deps.adapters[v.provider]!.stream(chat, call.target(v), ctx);
      const it = s.chunks[Symbol.asyncIterator]();
      const first = await it.next();
      return { s, it, first, span };
    }),
  );
  if ("status" in out) return out;
  const { servedBy, path } = out;
  const { s, it, first, span } = out.result;
  // Time to first token: from the call's start (fallbacks included) to the chunk in hand.
  const firstTokenMs = first.done ? undefined : elapsedMs(call.startedMs);
  // Traced: the answer's id, model and finish reasons, for the attempt's span when the stream ends.
  const seen = span ? streamFacts(first) : undefined;
  const name = call.target(servedBy).label;
  startSse(res, servedHeaders(call, servedBy, path));
  const keepText = deps.bodies.mode !== "off";
  // The answer's facts for the log's features; its whole text only when a body or JSON needs it.
  const answer = new StreamedAnswer(keepText || asksForJson(chat.response_format));
  async function* rest(): AsyncIterable<ChatChunk> {
    if (!first.done) {
      answer.add(first.value);
      yield { ...first.value, model: name };
    }
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      answer.add(n.value);
      if (seen) noteFinish(seen, n.value);
      yield { ...n.value, model: name };
    }
  }
  const id = call.requestId.replace(/^req_/, "");
  try {
    switch (dialect) {
      case "anthropic":
        for await (const e of deps.translate.toAnthropicStream(rest(), name, call.requestId))
          writeSse(res, e.data, e.event);
        break;
      case "responses":
        for await (const e of chatToResponsesStream(rest(), { id, model: name, request: chat }))
          writeSse(res, e.data, e.event);
        break;
      case "completions": {
        const includeUsage = (chat.stream_options as Json | undefined)?.include_usage === true;
        for await (const c of chatToCompletionStream(rest(), { id, model: name, includeUsage }))
          writeSse(res, c);
        writeSse(res, "[DONE]");
        break;
      }
      default:
        for await (const c of rest()) writeSse(res, c);
        writeSse(res, "[DONE]");
    }
    const usage = await s.done;
    const upstreamMs = elapsedMs(upstreamStart);
    res.end();
    if (seen) span!.ok({ ...seen, usage });
    const bodies = keepText ? keepBodies(deps.bodies, chat, answer.content) : undefined;
    return {
      status: 200,
      errorClass: null,
      servedBy,
      path,
      usage,
      upstreamMs,
      bodies,
      answer: answer.facts(),
      firstTokenMs,
    };
  } catch (err) {
    // Mid-stream failure: too late for another version; end the stream with an error event.
    span?.fail(err);
    const message = `stream interrupted: ${(err as Error).message}`;
    if (dialect === "anthropic")
      writeSse(res, { type: "error", error: { type: "api_error", message } }, "error");
    else if (dialect === "responses")
      // The SDKs raise on an event whose data carries `error`.
      writeSse(
        res,
        {
          type: "error",
          code: "upstream_error",
          message,
          param: null,
          error: { type: "upstream_error", message },
        },
        "error",
      );
    else writeSse(res, { error: { type: "upstream_error", message, code: "upstream_error" } });
    res.end();
    return {
      status: 502,
      errorClass: (err as { kind?: string }).kind ?? "stream",
      servedBy,
      path,
      firstTokenMs,
    };
  }
}

/** A traced stream's facts so far, from its first chunk. */
function streamFacts(first: IteratorResult<ChatChunk>): AnswerFacts & { finishReasons: string[] } {
  const facts = { finishReasons: [] as string[] };
  if (first.done) return facts;
  noteFinish(facts, first.value);
  return { ...facts, id: first.value.id, model: first.value.model };
}

function noteFinish(facts: { finishReasons: string[] }, chunk: ChatChunk) {
  for (const c of chunk.choices)
    if (typeof c.finish_reason === "string") facts.finishReasons.push(c.finish_reason);
}
