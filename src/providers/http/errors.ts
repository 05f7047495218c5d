import { UpstreamError } from "../types.ts";

/** Failures to reach the upstream or keep talking to it: worth another try elsewhere or later. */
const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EPIPE",
  "ECONNABORTED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);
const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

function codeOf(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === "string") return e.code;
  // Happy-eyeballs connects fail with an AggregateError holding one error per address.
  if (Array.isArray(e.errors) && e.errors.length > 0) return codeOf(e.errors[0]);
  return e.cause ? codeOf(e.cause) : undefined;
}

/** An UpstreamError for whatever the transport threw; one already typed (e.g. from an egress guard) passes. */
export function transportError(err: unknown, label: string): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const code = codeOf(err);
  const message = `${label}: ${err instanceof Error ? err.message || code : String(err)}`;
  if (code && TIMEOUT_CODES.has(code)) return new UpstreamError("timeout", message);
  if (code && CONNECT_CODES.has(code)) return new UpstreamError("connect", message);
  if (code === "UND_ERR_ABORTED") return new UpstreamError("aborted", message);
  return new UpstreamError("protocol", message);
}
