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
 * What an OpenAI chat request's input tokens are, as the OpenAI cookbook counts them: the
 * texts to encode, and the chat format's framing on top (`overhead`, in tokens). The count is
 * `overhead` plus the encoded length of each text. Beyond the cookbook (which counts string
 * fields only): text parts of a content array count, images and files do not; a tool call
 * counts its name and arguments; a tool definition its name, description and JSON schema as
 * text, plus the cookbook's per-function overhead. An estimate, not a bill.
 */
export function chatTokenTexts(
  messages: readonly Json[],
  tools?: readonly Json[],
): { texts: string[]; overhead: number } {
  const texts: string[] = [];
  let overhead = 0;
  for (const m of messages) {
    overhead += PER_MESSAGE;
    for (const [key, value] of Object.entries(m)) {
      if (typeof value === "string") {
        texts.push(value);
        if (key === "name") overhead += PER_NAME;
      } else if (key === "content" && Array.isArray(value)) {
        for (const part of value as Json[]) if (typeof part.text === "string") texts.push(part.text);
      } else if (key === "tool_calls" && Array.isArray(value)) {
        for (const call of value as Array<{ function?: { name?: string; arguments?: string } }>)
          texts.push(call.function?.name ?? "", call.function?.arguments ?? "");
      }
    }
  }
  overhead += REPLY_PRIMING;
  if (tools?.length) {
    for (const t of tools) {
      const f = (t.function ?? t) as { name?: unknown; description?: unknown; parameters?: unknown };
      overhead += PER_TOOL;
      texts.push(String(f.name ?? ""));
      if (typeof f.description === "string") texts.push(f.description);
      if (f.parameters !== undefined) texts.push(JSON.stringify(f.parameters));
    }
    overhead += TOOLS_END;
  }
  return { texts, overhead };
}
