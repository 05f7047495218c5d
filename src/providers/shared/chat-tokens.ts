import type { Tiktoken } from "js-tiktoken/lite";
import type { Json } from "../types.ts";

/** The two BPE encodings of OpenAI's chat models: o200k_base (GPT-4o onwards), cl100k_base (GPT-4, 3.5). */
export type EncodingName = "o200k_base" | "cl100k_base";

// Model ids on o200k_base, as tiktoken's own model table has them (gpt-4o, 4.1, 4.5, 5, o1, o3, o4…).
const O200K = /^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|chatgpt-4o|o1|o3|o4)/;

/**
 * The encoding that counts for a provider model id: o200k_base for OpenAI's current families,
 * else cl100k_base. cl100k_base is also the stand-in for the simulator and for OpenAI-compatible
 * models with a tokenizer of their own (Llama, Mistral…): an approximation, and the cheaper one
 * to hold (about 55 MB of heap once loaded, against about 105 MB for o200k_base).
 */
export function encodingFor(providerModelId: string): EncodingName {
  return O200K.test(providerModelId) ? "o200k_base" : "cl100k_base";
}

const loaded = new Map<EncodingName, Promise<Tiktoken>>();

/**
 * The encoding's tokenizer, loaded on first use and kept: the rank files are megabytes of
 * JavaScript, so a gateway that never counts never imports them. Building one takes the
 * event loop for a moment (a few hundred ms for cl100k_base, about a second for o200k_base).
 */
export function tokenizer(name: EncodingName): Promise<Tiktoken> {
  let t = loaded.get(name);
  if (!t) {
    t = (async () => {
      const [{ Tiktoken }, ranks] = await Promise.all([
        import("js-tiktoken/lite"),
        name === "o200k_base"
          ? import("js-tiktoken/ranks/o200k_base")
          : import("js-tiktoken/ranks/cl100k_base"),
      ]);
      return new Tiktoken(ranks.default);
    })();
    // A failed load is not cached: the next count tries again.
    t.catch(() => loaded.delete(name));
    loaded.set(name, t);
  }
  return t;
}

/** Whether an encoding is already in memory (for the docs' and tests' claim that counting is lazy). */
export const isLoaded = (name: EncodingName) => loaded.has(name);

// OpenAI cookbook, "How to count tokens with tiktoken" (num_tokens_from_messages, gpt-4o and
// gpt-4 family): every message costs 3 tokens of framing, a `name` one more, and every reply
// is primed with 3 (<|start|>assistant<|message|>).
const PER_MESSAGE = 3;
const PER_NAME = 1;
const REPLY_PRIMING = 3;
// The cookbook's per-function overhead for tool definitions (num_tokens_for_tools, gpt-4o).
const PER_TOOL = 7;
const TOOLS_END = 12;

/**
 * Input tokens of an OpenAI chat request as the OpenAI cookbook counts them: each message's
 * string fields encoded, plus the chat format's framing. Beyond the cookbook (which counts
 * string fields only): text parts of a content array are counted, images and files are not;
 * a tool call counts its name and arguments; a tool definition counts its name, description
 * and JSON schema as text, plus the cookbook's per-function overhead. An estimate, not a bill.
 */
export function countChatTokens(enc: Tiktoken, messages: readonly Json[], tools?: readonly Json[]): number {
  const n = (s: string) => enc.encode(s).length;
  let total = 0;
  for (const m of messages) {
    total += PER_MESSAGE;
    for (const [key, value] of Object.entries(m)) {
      if (typeof value === "string") {
        total += n(value);
        if (key === "name") total += PER_NAME;
      } else if (key === "content" && Array.isArray(value)) {
        for (const part of value as Json[]) if (typeof part.text === "string") total += n(part.text);
      } else if (key === "tool_calls" && Array.isArray(value)) {
        for (const call of value as Array<{ function?: { name?: string; arguments?: string } }>)
          total += n(call.function?.name ?? "") + n(call.function?.arguments ?? "");
      }
    }
  }
  total += REPLY_PRIMING;
  if (tools?.length) {
    for (const t of tools) {
      const f = (t.function ?? t) as { name?: unknown; description?: unknown; parameters?: unknown };
      total += PER_TOOL + n(String(f.name ?? ""));
      if (typeof f.description === "string") total += n(f.description);
      if (f.parameters !== undefined) total += n(JSON.stringify(f.parameters));
    }
    total += TOOLS_END;
  }
  return total;
}
