import type { ChatChunk, ChatRequest, ChatResponse, Json } from "../types.ts";
import { TranslateInputError } from "./input-error.ts";
import type { OpenAIChoice, OpenAIChunkChoice } from "./openai-types.ts";

/*
 * OpenAI's legacy Completions API (POST /v1/completions) over the chat path: the prompt is
 * one user message, the answer's text is the completion. What has no chat counterpart
 * (echo, suffix, logprobs, best_of, several prompts) is refused by name.
 */

/** Fields passed to the chat request as they are. */
const PASSED = [
  "max_tokens",
  "temperature",
  "top_p",
  "stop",
  "user",
  "presence_penalty",
  "frequency_penalty",
  "seed",
] as const;

const REFUSED: Record<string, string> = {
  echo: "echoing the prompt is not supported",
  suffix: "insertion (suffix) is not supported",
  logprobs: "logprobs are not supported",
  best_of: "best_of is not supported",
  logit_bias: "not supported",
};

const fail = (field: string, reason: string): never => {
  throw new TranslateInputError(field, reason);
};

/** A Completions request body as the canonical chat request; what it cannot honour throws TranslateInputError. */
export function completionsToChatRequest(body: Json): ChatRequest {
  for (const [k, v] of Object.entries(body)) {
    if (v === undefined || v === null) continue;
    if (k === "echo" && v === false) continue;
    if (k === "best_of" && v === 1) continue;
    if (k in REFUSED) fail(k, REFUSED[k]!);
    if (!["model", "prompt", "stream", "stream_options", "n", ...PASSED].includes(k))
      fail(k, "not supported by the modelgov gateway's /v1/completions");
  }
  let prompt = body.prompt;
  if (Array.isArray(prompt)) {
    if (prompt.length !== 1 || typeof prompt[0] !== "string")
      fail(
        "prompt",
        "one prompt per request: a string, or an array of one string (token arrays are not supported)",
      );
    prompt = prompt[0];
  }
  if (typeof prompt !== "string" || prompt === "") return fail("prompt", "required, a non-empty string");
  if (body.n != null && body.n !== 1) fail("n", "only 1 completion per request");
  const out: ChatRequest = { model: body.model as string, messages: [{ role: "user", content: prompt }] };
  for (const k of PASSED) if (body[k] != null) out[k] = body[k];
  if (body.stream === true) {
    out.stream = true;
    if (body.stream_options != null) out.stream_options = body.stream_options;
  }
  return out;
}

const idOf = (base: string) => `cmpl-${base}`;

/** A plain chat answer as a `text_completion` (the first choice; a tool call has no text). */
export function chatToCompletionResponse(res: ChatResponse, o: { id: string; model: string }): Json {
  const choice = res.choices[0] as OpenAIChoice | undefined;
  const content = choice?.message.content;
  const text =
    typeof content === "string"
      ? content
      : (content ?? []).flatMap((p) => (p.type === "text" ? [p.text] : [])).join("");
  return {
    id: idOf(o.id),
    object: "text_completion",
    created: (res.created as number | undefined) ?? Math.floor(Date.now() / 1000),
    model: o.model,
    choices: [{ text, index: 0, logprobs: null, finish_reason: choice?.finish_reason ?? "stop" }],
    ...(res.usage ? { usage: res.usage } : {}),
  };
}

/**
 * Chat chunks → `text_completion` chunks: one per piece of text or finish; the usage chunk
 * (`choices: []`) only when the caller asked for it (`stream_options.include_usage`).
 */
export async function* chatToCompletionStream(
  chunks: AsyncIterable<ChatChunk>,
  o: { id: string; model: string; includeUsage: boolean; created?: number },
): AsyncGenerator<Json> {
  const created = o.created ?? Math.floor(Date.now() / 1000);
  const head = { id: idOf(o.id), object: "text_completion", created, model: o.model };
  for await (const c of chunks) {
    const choice = c.choices[0] as OpenAIChunkChoice | undefined;
    if (!choice) {
      if (c.usage && o.includeUsage) yield { ...head, choices: [], usage: c.usage };
      continue;
    }
    const text = choice.delta?.content ?? "";
    if (!text && !choice.finish_reason) continue;
    yield {
      ...head,
      choices: [{ text, index: 0, logprobs: null, finish_reason: choice.finish_reason ?? null }],
    };
  }
}
