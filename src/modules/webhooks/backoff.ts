/** Retry timing for webhook deliveries: pure, so the schedule is testable without a receiver. */
export interface BackoffOptions {
  baseMs: number;
  factor: number;
  capMs: number;
  /** Fraction taken off at random, so receivers coming back up are not hit by a synchronised wave. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, factor: 2, capMs: 3_600_000, jitter: 0.2 };

/**
 * Wait before the next attempt after `failedAttempts` failures (1 = the first failed):
 * base·factor^(n−1), capped, minus up to `jitter` of it. Jitter only shortens the wait,
 * so the nominal delay is a bound callers (and tests) can rely on.
 */
export function backoffDelay(failedAttempts: number, o: BackoffOptions, random = Math.random): number {
  const nominal = Math.min(o.capMs, o.baseMs * o.factor ** Math.max(0, failedAttempts - 1));
  return Math.round(nominal * (1 - o.jitter * random()));
}

/** `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: Date): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

/** Receivers name their own wait on these; elsewhere the header is advisory only. */
export const HONOURS_RETRY_AFTER = new Set([429, 503]);
