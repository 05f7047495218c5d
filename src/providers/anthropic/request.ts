import { withVersionDefaults } from "../shared/parameters.ts";
import { withTrace } from "../shared/trace.ts";
import { type AnthropicRequest, DEFAULT_MAX_TOKENS, openAIToAnthropicRequest } from "../translate/index.ts";
import type { ChatRequest, Json, TraceHeaders, UpstreamTarget } from "../types.ts";

export const ANTHROPIC_DEFAULT_ENDPOINT = "https://api.anthropic.com";
export const ANTHROPIC_VERSION = "2023-06-01";

/** Canonical fields the translator maps; any other version parameter is Anthropic's own (top_k, thinking…). */
const TRANSLATED = new Set([
  "temperature",
  "top_p",
  "max_tokens",
  "max_completion_tokens",
  "stop",
  "user",
  "stream_options",
  "stream",
]);

export function messagesUrl(target: UpstreamTarget): string {
  return `${(target.endpoint ?? ANTHROPIC_DEFAULT_ENDPOINT).replace(/\/+$/, "")}/v1/messages`;
}

export function countTokensUrl(target: UpstreamTarget): string {
  return `${messagesUrl(target)}/count_tokens`;
}

/** What Messages' count_tokens reads; it refuses the call-only fields (max_tokens, sampling, stream). */
const COUNTED = ["model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers"] as const;

/**
 * The count_tokens body for a canonical request: the very Messages body a call would send
 * (so the count is of what would be billed), less the fields only a call takes.
 */
export function countTokensBody(req: ChatRequest, target: UpstreamTarget): Json {
  const body = anthropicBody(req, target, false) as unknown as Json;
  const out: Json = {};
  for (const k of COUNTED) if (body[k] !== undefined) out[k] = body[k];
  return out;
}

export function anthropicHeaders(
  target: UpstreamTarget,
  stream: boolean,
  trace?: TraceHeaders,
): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: stream ? "text/event-stream" : "application/json",
    "anthropic-version": ANTHROPIC_VERSION,
  };
  if (target.apiKey) headers["x-api-key"] = target.apiKey;
  return trace ? withTrace(headers, trace) : headers;
}

/**
 * The Messages body for a canonical request: version parameters as defaults (a request
 * value wins; the version's max_tokens is the default limit), translated, with the
 * provider's model id. Version parameters outside the canonical vocabulary go to
 * Anthropic as they are.
 */
export function anthropicBody(req: ChatRequest, target: UpstreamTarget, stream: boolean): AnthropicRequest {
  const merged = withVersionDefaults(req, target.parameters);
  const defaultMaxTokens =
    typeof target.parameters.max_tokens === "number" ? target.parameters.max_tokens : DEFAULT_MAX_TOKENS;
  const body = openAIToAnthropicRequest(
    { ...merged, model: target.providerModelId, stream },
    { defaultMaxTokens },
  );
  if (!stream) delete body.stream;
  const extra = body as unknown as Json;
  for (const [k, v] of Object.entries(merged)) {
    if (k in req || TRANSLATED.has(k) || extra[k] !== undefined) continue;
    extra[k] = v;
  }
  return body;
}
