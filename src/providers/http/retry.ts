import { type Clock, systemClock } from "../../lib/clock.ts";
import type { SignalLike } from "../../lib/light-abort.ts";
import { UpstreamError } from "../types.ts";

/**
 * Retries of one upstream call: exponential backoff with jitter, `Retry-After` honoured,
 * an overall deadline respected and an abort obeyed at once. Time comes from an injected
 * clock and sleep, randomness from an injected source, so tests run on a fake clock.
 * Shared by the gateway's fallback chain and the evaluation runner; it judges errors by
 * UpstreamError, so it lives beside the providers rather than in either of them.
 */

export type Jitter = "full" | "equal" | "none";

export interface RetryPolicy {
  /** Attempts in all, the first included (1 = never retry). */
  readonly maxAttempts: number;
  readonly baseMs: number;
  readonly factor: number;
  /** Cap on any wait, backoff or Retry-After. */
  readonly maxMs: number;
  /** full: uniform in [0, d); equal: uniform in [d/2, d); none: d (AWS "Exponential Backoff and Jitter"). */
  readonly jitter: Jitter;
  /** A Retry-After longer than this gives up at once (better to fall back than to wait). */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 3,
  baseMs: 200,
  factor: 2,
  maxMs: 5_000,
  jitter: "full",
  maxRetryAfterMs: 5_000,
});

/** A policy from partial options; `maxRetryAfterMs` defaults to `maxMs`, so a Retry-After is never cut short. */
export function retryPolicy(opts: Partial<RetryPolicy> = {}): RetryPolicy {
  const maxMs = opts.maxMs ?? DEFAULT_RETRY_POLICY.maxMs;
  const p = { ...DEFAULT_RETRY_POLICY, maxRetryAfterMs: maxMs, ...opts };
  const bad = (field: string, why: string) => new RangeError(`retry ${field} ${why}`);
  if (!Number.isInteger(p.maxAttempts) || p.maxAttempts < 1)
    throw bad("maxAttempts", "must be an integer ≥ 1");
  for (const k of ["baseMs", "maxMs", "maxRetryAfterMs"] as const)
    if (!(p[k] >= 0 && Number.isFinite(p[k]))) throw bad(k, "must be a finite number ≥ 0");
  if (!(p.factor >= 1 && Number.isFinite(p.factor))) throw bad("factor", "must be a finite number ≥ 1");
  if (!["full", "equal", "none"].includes(p.jitter)) throw bad("jitter", "must be full, equal or none");
  return Object.freeze(p);
}

/** The wait before retry number `retry` (1 = the wait after the first failed attempt). */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number): number {
  const d = Math.min(policy.maxMs, policy.baseMs * policy.factor ** Math.max(0, retry - 1));
  if (policy.jitter === "full") return random() * d;
  if (policy.jitter === "equal") return d / 2 + (random() * d) / 2;
  return d;
}

export type Sleep = (ms: number, signal?: SignalLike) => Promise<void>;

/** The error an abort surfaces as: the signal's own reason when it is an UpstreamError. */
export function abortError(signal: SignalLike): UpstreamError {
  if (signal.reason instanceof UpstreamError) return signal.reason;
  const why = signal.reason instanceof Error ? signal.reason.message : "the request was aborted";
  return new UpstreamError("aborted", why);
}

/** Thrown instead of starting an attempt the deadline leaves no room for. Not retryable. */
export class DeadlineExceededError extends UpstreamError {
  constructor(message = "deadline exceeded before the attempt could start") {
    super("timeout", message);
    this.name = "DeadlineExceededError";
  }
  override get retryable(): boolean {
    return false;
  }
}

export const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** May an attempt start at `now`? Only if the deadline leaves time, and at least `minAttemptMs`. */
export function hasTimeFor(now: number, deadline: number | undefined, minAttemptMs = 0): boolean {
  if (deadline === undefined) return true;
  const left = deadline - now;
  return left > 0 && left >= minAttemptMs;
}

export const isRetryableError = (err: unknown): boolean => err instanceof UpstreamError && err.retryable;

export type GiveUpReason = "not_retryable" | "max_attempts" | "retry_after_too_long" | "deadline" | "aborted";

export interface AttemptInfo {
  /** 1-based. */
  attempt: number;
  signal: SignalLike | undefined;
  deadline: number | undefined;
}

export interface RetryInfo {
  /** The attempt that failed. */
  attempt: number;
  error: unknown;
  delayMs: number;
  source: "backoff" | "retry-after";
}

export interface RetryOptions {
  clock?: Clock;
  sleep?: Sleep;
  random?: () => number;
  signal?: SignalLike;
  /** Epoch milliseconds on `clock`. */
  deadline?: number;
  /** The least time an attempt needs; none starts with less left before the deadline. */
  minAttemptMs?: number;
  /**
   * The attempt itself rejects as soon as `signal` aborts (it hands the signal to its
   * transport): no extra race around each attempt is needed. Default false: the race is run.
   */
  attemptHonoursSignal?: boolean;
  /** Which errors are worth another try; default: UpstreamError.retryable. */
  isRetryable?: (err: unknown) => boolean;
  onRetry?: (info: RetryInfo) => void;
  onGiveUp?: (info: { reason: GiveUpReason; attempts: number; error: unknown }) => void;
}

/** Settles with `p`, or rejects the moment `signal` aborts (`p` is left to honour the signal itself). */
function raceAbort<R>(p: Promise<R>, signal: SignalLike | undefined): Promise<R> {
  if (!signal) return p;
  p.catch(() => {}); // if the abort wins, p's later rejection is nobody's
  return new Promise<R>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * Calls `fn` until it succeeds or retrying stops making sense; then rethrows the last
 * error unchanged (an abort surfaces as UpstreamError kind `aborted`).
 */
export async function withRetries<R>(
  fn: (info: AttemptInfo) => Promise<R>,
  policy: RetryPolicy,
  opts: RetryOptions = {},
): Promise<R> {
  const { clock = systemClock, sleep = realSleep, random = Math.random, signal, deadline } = opts;
  const { minAttemptMs = 0, isRetryable = isRetryableError } = opts;
  const now = clock === systemClock ? Date.now : () => clock.now().getTime();
  const giveUp = (reason: GiveUpReason, attempts: number, error: unknown) => {
    opts.onGiveUp?.({ reason, attempts, error });
    return error;
  };

  if (signal?.aborted) throw giveUp("aborted", 0, abortError(signal));
  if (!hasTimeFor(now(), deadline, minAttemptMs)) throw giveUp("deadline", 0, new DeadlineExceededError());
  for (let attempt = 1; ; attempt++) {
    let error: unknown;
    try {
      const p = fn({ attempt, signal, deadline });
      return await (opts.attemptHonoursSignal ? p : raceAbort(p, signal));
    } catch (err) {
      error = err;
    }
    if (signal?.aborted) {
      const e = error instanceof UpstreamError && error.kind === "aborted" ? error : abortError(signal);
      throw giveUp("aborted", attempt, e);
    }
    if (!isRetryable(error)) throw giveUp("not_retryable", attempt, error);
    if (attempt >= policy.maxAttempts) throw giveUp("max_attempts", attempt, error);
    const retryAfter = error instanceof UpstreamError ? error.retryAfterMs : undefined;
    if (retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs)
      throw giveUp("retry_after_too_long", attempt, error);
    const delayMs =
      retryAfter !== undefined ? Math.min(retryAfter, policy.maxMs) : backoffMs(policy, attempt, random);
    if (!hasTimeFor(now() + delayMs, deadline, minAttemptMs)) throw giveUp("deadline", attempt, error);
    opts.onRetry?.({
      attempt,
      error,
      delayMs,
      source: retryAfter !== undefined ? "retry-after" : "backoff",
    });
    try {
      await sleep(delayMs, signal);
    } catch (err) {
      throw giveUp("aborted", attempt, signal?.aborted ? abortError(signal) : err);
    }
    if (signal?.aborted) throw giveUp("aborted", attempt, abortError(signal));
  }
}
