/**
 * What a kept body holds: the gateway keeps `{ request, response }` for the share of requests
 * the body policy samples (`MODELGOV_GATEWAY_BODIES=sample:<rate>`). Every reader of a
 * sampled body (the retraining dataset export, training a router from feedback) reads the
 * request's chat through here.
 */

export type ChatMessage = Record<string, unknown> & { role?: unknown; content?: unknown };

/** The request's chat messages as the gateway kept them (OpenAI-shaped), or null. */
export function sampledMessages(body: { request?: unknown } | null | undefined): ChatMessage[] | null {
  const req = body?.request as { messages?: unknown } | undefined;
  const messages = req?.messages;
  if (!Array.isArray(messages) || messages.length === 0) return null;
  if (
    !messages.every((m) => typeof m === "object" && m !== null && typeof (m as ChatMessage).role === "string")
  )
    return null;
  return messages as ChatMessage[];
}
