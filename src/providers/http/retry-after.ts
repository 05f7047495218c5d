type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * How long the upstream asks us to wait: `retry-after-ms` (OpenAI) first, then
 * `Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3), never negative.
 */
export function retryAfterMs(headers: Headers, now: Date): number | undefined {
  const ms = header(headers, "retry-after-ms")?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.round(Number(ms));
  const v = header(headers, "retry-after")?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  // Date.parse reads "-3" as a year; an HTTP date always names its day and month.
  const at = /[a-z]/i.test(v) ? Date.parse(v) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
