import type { ChatChunk, StreamResult, Usage } from "../types.ts";
import { UpstreamError } from "../types.ts";
import type { Deadlines } from "./deadlines.ts";
import { approxTokens } from "./tokens.ts";

/**
 * Turns a chunk source into a StreamResult. It waits for the first chunk before resolving,
 * so that an upstream that accepts the request and then says nothing fails the `stream()`
 * call itself, while nothing has reached the client and a retry or fallback is still clean.
 *
 * `done` resolves with the usage the provider reported in the stream, or with an estimate
 * (input from the request, output from the characters streamed) when it reported none;
 * a consumer that stops early gets the counts seen so far.
 */
export async function primeStream(
  source: AsyncGenerator<ChatChunk>,
  opts: { deadlines: Deadlines; label: string; inputTokens: number },
): Promise<StreamResult> {
  const { deadlines, label } = opts;
  const fail = (err: unknown): UpstreamError =>
    deadlines.error ??
    (err instanceof UpstreamError ? err : new UpstreamError("protocol", `${label}: ${String(err)}`));

  let first: IteratorResult<ChatChunk>;
  try {
    first = await source.next();
  } catch (err) {
    deadlines.dispose();
    throw fail(err);
  }

  let reported: Usage | undefined;
  let chars = 0;
  const tally = (c: ChatChunk) => {
    if (c.usage) reported = { inputTokens: c.usage.prompt_tokens, outputTokens: c.usage.completion_tokens };
    const delta = (c.choices[0] as { delta?: { content?: unknown; tool_calls?: unknown } } | undefined)
      ?.delta;
    if (typeof delta?.content === "string") chars += delta.content.length;
    if (Array.isArray(delta?.tool_calls)) {
      for (const t of delta.tool_calls as Array<{ function?: { arguments?: string } }>) {
        chars += t.function?.arguments?.length ?? 0;
      }
    }
  };
  const usage = (): Usage => reported ?? { inputTokens: opts.inputTokens, outputTokens: approxTokens(chars) };

  let settle!: { resolve: (u: Usage) => void; reject: (e: UpstreamError) => void };
  const done = new Promise<Usage>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // Nobody has to await `done`; an unread failure must not crash the process.
  done.catch(() => {});
  deadlines.onFail((e) => settle.reject(e));

  async function* chunks(): AsyncGenerator<ChatChunk> {
    let failed = false;
    try {
      if (first.done) return;
      tally(first.value);
      yield first.value;
      while (true) {
        const next = await source.next();
        if (next.done) return;
        tally(next.value);
        yield next.value;
      }
    } catch (err) {
      failed = true;
      const e = fail(err);
      settle.reject(e);
      throw e;
    } finally {
      deadlines.dispose();
      if (!failed) settle.resolve(usage());
      await source.return(undefined);
    }
  }
  return { chunks: chunks(), done };
}
