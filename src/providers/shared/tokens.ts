import type { Json } from "../types.ts";

/** The usual rule of thumb for English text with BPE tokenizers: about four characters a token. */
export function approxTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

/** Characters of the text a model reads in a list of OpenAI messages (content, tool calls). */
export function messageChars(messages: readonly Json[] | undefined): number {
  let n = 0;
  for (const m of messages ?? []) {
    const c = m.content;
    if (typeof c === "string") n += c.length;
    else if (Array.isArray(c)) {
      for (const p of c as Json[]) if (typeof p.text === "string") n += p.text.length;
    }
    if (Array.isArray(m.tool_calls)) {
      for (const t of m.tool_calls as Array<{ function?: { arguments?: string } }>) {
        n += t.function?.arguments?.length ?? 0;
      }
    }
  }
  return n;
}
