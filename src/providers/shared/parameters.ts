import type { ChatRequest, Json } from "../types.ts";

/** Version parameters that configure modelgov itself and are never sent to a provider. */
export const MODELGOV_ONLY_PARAMETERS: ReadonlySet<string> = new Set([
  "timeout_ms",
  "apiKeyEnv",
  "apiKey",
  "endpoint",
  // Marks an embedding model (shared/embedding.ts): the gateway's to read, no provider's.
  "embedding",
]);

/** Request fields of which a request sets at most one; a version default for one yields to any. */
const TOKEN_LIMITS = ["max_tokens", "max_completion_tokens"];

/**
 * The request with the version's parameters as defaults: a value in the request wins, and
 * modelgov-only keys are dropped. Unknown keys pass through (vendor extensions).
 */
export function withVersionDefaults(req: ChatRequest, parameters: Json): ChatRequest {
  const out: Json = {};
  const requestLimitsTokens = TOKEN_LIMITS.some((k) => req[k] !== undefined && req[k] !== null);
  for (const [k, v] of Object.entries(parameters)) {
    if (MODELGOV_ONLY_PARAMETERS.has(k)) continue;
    if (requestLimitsTokens && TOKEN_LIMITS.includes(k)) continue;
    out[k] = v;
  }
  return Object.assign(out, req) as ChatRequest;
}
