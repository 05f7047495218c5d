import type { GatewayDeps } from "./deps.ts";
import type { Dialect } from "./respond.ts";

type Limit = ReturnType<GatewayDeps["rateLimit"]>;

/**
 * The caller's request bucket in the headers its SDK knows: OpenAI's `x-ratelimit-*-requests`
 * (reset as a duration, "1s", "6m0s") on every authorised answer, and Anthropic's
 * `anthropic-ratelimit-requests-*` (reset as an RFC 3339 time) on /v1/messages. "Reset" is
 * when the bucket is full again. A few strings per request; nothing when the bucket does not
 * say what remains.
 */
export function rateLimitHeaders(
  limit: Limit,
  dialect: Dialect,
  now: () => number,
  into: Record<string, string>,
): void {
  if (limit.remaining === undefined || limit.resetMs === undefined) return;
  const max = String(limit.limit);
  const remaining = String(limit.remaining);
  into["x-ratelimit-limit-requests"] = max;
  into["x-ratelimit-remaining-requests"] = remaining;
  into["x-ratelimit-reset-requests"] = goDuration(limit.resetMs);
  if (dialect !== "anthropic") return;
  into["anthropic-ratelimit-requests-limit"] = max;
  into["anthropic-ratelimit-requests-remaining"] = remaining;
  // Whole seconds, rounded up: the time by which the bucket is surely full.
  const at = Math.ceil((now() + limit.resetMs) / 1000) * 1000;
  into["anthropic-ratelimit-requests-reset"] = new Date(at).toISOString().replace(".000Z", "Z");
}

/** Milliseconds as Go's time.Duration prints them (OpenAI's format): "0s", "20ms", "1.5s", "6m0s", "1h0m0s". */
export function goDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total === 0) return "0s";
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const rest = total % 60_000;
  const s = rest % 1000 === 0 ? String(rest / 1000) : (rest / 1000).toFixed(3).replace(/0+$/, "");
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}
