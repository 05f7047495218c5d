import type { ChatRequest } from "../../../providers/types.ts";
import { requestFacts } from "../features/derive.ts";
import { scriptOf } from "../features/script.ts";
import type { RouterInput } from "./router.ts";

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** Characters of the messages' text parts, for a token estimate (about four per token). */
function chars(messages: readonly unknown[]): number {
  let n = 0;
  for (const m of messages) {
    if (!isObject(m)) continue;
    const c = m.content;
    if (typeof c === "string") n += c.length;
    else if (Array.isArray(c))
      for (const p of c) if (isObject(p) && typeof p.text === "string") n += p.text.length;
  }
  return n;
}

/**
 * What a router reads of a chat request: the last user message, an input-token estimate,
 * turns and tools, the OpenAI `metadata`, the request's parameters (`params.*`: the body's
 * fields) and a few derived features (`features.*`: tokens_in, messages, turns, tools_offered,
 * and the script of the last user message, computed only if a condition reads it).
 */
export function routerInput(chat: ChatRequest): RouterInput {
  const facts = requestFacts(chat);
  const messages = Array.isArray(chat.messages) ? chat.messages : [];
  let turns = 0;
  for (const m of messages) if (isObject(m) && m.role === "user") turns++;
  const tokensIn = Math.ceil(chars(messages) / 4);
  const features: Record<string, unknown> = {
    tokens_in: tokensIn,
    messages: facts.messages,
    turns,
    tools_offered: facts.toolsOffered,
  };
  let script: string | undefined;
  Object.defineProperty(features, "script", {
    enumerable: true,
    get: () => {
      script ??= scriptOf(facts.lastUserText);
      return script;
    },
  });
  return {
    text: facts.lastUserText,
    tokensIn,
    turns,
    toolsOffered: facts.toolsOffered,
    metadata: isObject(chat.metadata) ? chat.metadata : {},
    params: chat,
    features,
  };
}
