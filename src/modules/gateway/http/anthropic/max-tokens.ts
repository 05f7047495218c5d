import type { Json } from "../../../../providers/types.ts";
import { GatewayError } from "../gateway-error.ts";

/**
 * Messages has no default answer length: `max_tokens` is required, a positive integer, as
 * Anthropic's API requires it. (The canonical request would otherwise pass without one and
 * the Anthropic adapter would fill in its default, which hid the client's mistake.)
 */
export function requireMaxTokens(body: Json): void {
  const v = body.max_tokens;
  if (v === undefined || v === null)
    throw new GatewayError(
      400,
      "max_tokens: Field required (the Messages API has no default: send the most tokens the answer may have, a positive integer)",
      { field: "body.max_tokens" },
    );
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1)
    throw new GatewayError(400, `max_tokens: must be a positive integer, got ${JSON.stringify(v)}`, {
      field: "body.max_tokens",
    });
}
