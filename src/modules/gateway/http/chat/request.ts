import {
  completionsToChatRequest,
  responsesToChatRequest,
  TranslateInputError,
} from "../../../../providers/translate/index.ts";
import type { ChatRequest, Json } from "../../../../providers/types.ts";
import type { GatewayDeps } from "../deps.ts";
import { GatewayError } from "../gateway-error.ts";
import type { Dialect } from "../respond.ts";

/**
 * The chat request in a parsed body, in OpenAI's shape whatever the dialect; a request no
 * adapter could read is a 400 naming the field, before any upstream is called.
 */
export function chatRequestOf(
  body: Json,
  dialect: Dialect,
  translate: GatewayDeps["translate"],
): ChatRequest {
  let chat: ChatRequest;
  try {
    chat = readAs(body, dialect, translate);
  } catch (err) {
    if (err instanceof TranslateInputError)
      throw new GatewayError(400, err.message, { field: `body.${err.field}`, cause: err });
    throw new GatewayError(400, `cannot read the request: ${(err as Error).message}`, { field: "body" });
  }
  if (typeof chat.model !== "string" || !chat.model)
    throw new GatewayError(
      400,
      "model: required, the name of a registered model (optionally @alias or @version)",
      {
        field: "body.model",
      },
    );
  if (!Array.isArray(chat.messages) || chat.messages.length === 0)
    throw new GatewayError(400, "messages: required, a non-empty array", { field: "body.messages" });
  const bad = messageProblem(chat.messages);
  if (bad) throw new GatewayError(400, `${bad.field.slice(5)}: ${bad.reason}`, { field: bad.field });
  return chat;
}

/** The body as a chat request: Messages through the injected translator, Responses and Completions through theirs. */
function readAs(body: Json, dialect: Dialect, translate: GatewayDeps["translate"]): ChatRequest {
  switch (dialect) {
    case "anthropic":
      return translate.fromAnthropicRequest(body);
    case "responses":
      return responsesToChatRequest(body);
    case "completions":
      return completionsToChatRequest(body);
    default:
      return body as ChatRequest;
  }
}

const MESSAGE_ROLES = new Set(["system", "developer", "user", "assistant", "tool", "function"]);

/**
 * The first message that is not the shape every provider adapter reads: an object with a known
 * role and content that is text, a list of typed parts, or absent (an assistant's tool call).
 * Anything else reached the adapters and failed there as a 502 from the upstream.
 */
export function messageProblem(messages: unknown[]): { field: string; reason: string } | null {
  for (const [i, m] of messages.entries()) {
    const at = `body.messages.${i}`;
    if (!m || typeof m !== "object" || Array.isArray(m)) return { field: at, reason: "must be an object" };
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role !== "string" || !MESSAGE_ROLES.has(role))
      return { field: `${at}.role`, reason: `must be one of ${[...MESSAGE_ROLES].join(", ")}` };
    if (content === undefined || content === null || typeof content === "string") continue;
    if (!Array.isArray(content))
      return { field: `${at}.content`, reason: "must be a string or an array of content parts" };
    for (const [j, part] of content.entries())
      if (!part || typeof part !== "object" || typeof (part as { type?: unknown }).type !== "string")
        return { field: `${at}.content.${j}`, reason: "must be an object with a type" };
  }
  return null;
}

/** `x-modelgov-groups: age_band=65+; language=de` → { age_band: "65+", language: "de" }. */
export function parseGroups(header: string | string[] | undefined): Record<string, string> | undefined {
  if (typeof header !== "string" || !header) return undefined;
  const out: Record<string, string> = {};
  for (const part of header.split(/[;,]/)) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return Object.keys(out).length ? out : undefined;
}
