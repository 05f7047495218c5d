import { systemClock } from "../../../lib/clock.ts";
import {
  type AttemptInfo,
  abortError,
  DeadlineExceededError,
  type GiveUpReason,
  hasTimeFor,
  isRetryableError,
  type RetryOptions,
  type RetryPolicy,
  withRetries,
} from "../../../providers/http/retry.ts";
import { UpstreamError } from "../../../providers/types.ts";
import type { BreakerPermission, BreakerRefusal, CircuitBreaker } from "./breaker.ts";

/**
 * Walks a fallback chain, primary first: a target whose breaker refuses is skipped, the
 * others are called with retries. Every attempt goes through the target's breaker
 * (resilience4j order: retry outside, breaker inside), so a breaker that opens during
 * the retries stops them. Streams: the attempt resolves once the first chunk exists;
 * from then on errors are the caller's. `ctx.commit()` marks that point earlier, when
 * the attempt itself has already sent bytes to the client.
 */

/**
 * One version tried, in the order tried: the gateway's one step type, from this walk to the
 * caller's `fallbackPath` and the request log's `fallback_path` (stored as it is).
 */
export type FallbackStep =
  | { versionId: string; version: string; outcome: "skipped"; reason: string }
  | {
      versionId: string;
      version: string;
      outcome: "failed";
      /** `<kind> <status>` of the last error, e.g. `http 503`, `timeout`. */
      reason: string;
      attempts: number;
      gaveUp: GiveUpReason | "breaker_open" | "committed";
      durationMs: number;
    }
  | { versionId: string; version: string; outcome: "served"; attempts: number; durationMs: number };

export type FallbackEvent =
  | { type: "skipped"; versionId: string; reason: string }
  | { type: "retry"; versionId: string; attempt: number; delayMs: number; reason: string }
  | { type: "failed"; versionId: string; reason: string; attempts: number }
  | { type: "served"; versionId: string; attempts: number; durationMs: number };

/** Records the breaker outcome of an attempt later (a stream's end), instead of when it resolves. */
export interface OutcomeHandle {
  success(durationMs?: number): void;
  failure(err: unknown, durationMs?: number): void;
}

export interface AttemptContext extends AttemptInfo {
  /** Bytes went to the client: a later failure of this attempt is final (no retry, no fallback). */
  commit(): void;
  /** The caller will report the outcome through the handle; until then a HALF_OPEN probe stays in flight. */
  deferOutcome(): OutcomeHandle;
}

/** The retry options each attempt takes, `deadline` covering the whole walk. */
export interface FallbackOptions<T>
  extends Pick<
    RetryOptions,
    "clock" | "sleep" | "random" | "signal" | "deadline" | "minAttemptMs" | "attemptHonoursSignal"
  > {
  breakers: { get(versionId: string): CircuitBreaker };
  retry: RetryPolicy;
  /** How a target is named in the path; default its id. */
  label?: (target: T) => string;
  /** Whether a failure may move on to the next target; default: all but the client's own bad request. */
  shouldFallback?: (err: unknown) => boolean;
  onEvent?: (event: FallbackEvent) => void;
}

export interface FallbackResult<T, R> {
  result: R;
  servedBy: T;
  path: FallbackStep[];
}

export type FallbackStop = "exhausted" | "not_fallbackable" | "committed" | "aborted" | "deadline";

/** Nothing served. `path` lists every target and what became of it; `cause` is the last error. */
export class FallbackError extends Error {
  readonly stoppedBy: FallbackStop;
  readonly path: FallbackStep[];
  constructor(stoppedBy: FallbackStop, path: FallbackStep[], cause: unknown) {
    super(`no target served (${stoppedBy}): ${path.map(describeStep).join(", ") || "empty chain"}`, {
      cause,
    });
    this.name = "FallbackError";
    this.stoppedBy = stoppedBy;
    this.path = path;
  }
}

/** `1.2.0 failed (http 503)`, `1.1.0 skipped (breaker open)`, `1.0.0 served`. */
export function describeStep(s: FallbackStep): string {
  return `${s.version} ${s.outcome}${"reason" in s ? ` (${s.reason})` : ""}`;
}

/** `http 503`, `timeout`, `connect`; other errors by name. */
export function describeError(err: unknown): string {
  // A refusal's message is the policy that refused (egress allow-list, blocked range): say it.
  if (err instanceof UpstreamError && err.kind === "refused") return err.message;
  if (err instanceof UpstreamError) return err.status === undefined ? err.kind : `${err.kind} ${err.status}`;
  return err instanceof Error ? `error ${err.name}` : "error";
}

/** A 400 or 422 is the request's fault: the next version would refuse it too. An abort ends the walk. */
export function defaultShouldFallback(err: unknown): boolean {
  if (!(err instanceof UpstreamError)) return true;
  if (err.kind === "aborted") return false;
  return !(err.kind === "http" && (err.status === 400 || err.status === 422));
}

class BreakerRefused extends Error {
  constructor(readonly refusal: BreakerRefusal) {
    super("breaker refused");
  }
}

export async function executeWithFallback<T extends { id: string }, R>(
  chain: readonly T[],
  attempt: (target: T, ctx: AttemptContext) => Promise<R>,
  opts: FallbackOptions<T>,
): Promise<FallbackResult<T, R>> {
  const { clock = systemClock, signal, deadline, minAttemptMs = 0, onEvent } = opts;
  const { label = (t: T) => t.id, shouldFallback = defaultShouldFallback } = opts;
  // The system clock without a Date per reading (this runs several times per gateway request).
  const now = clock === systemClock ? Date.now : () => clock.now().getTime();
  const path: FallbackStep[] = [];
  let lastError: unknown;

  let lastGaveUp: FallbackStop = "exhausted";
  const skip = (t: T, reason: string) => {
    path.push({ versionId: t.id, version: label(t), outcome: "skipped", reason });
    onEvent?.({ type: "skipped", versionId: t.id, reason });
  };
  const skipFrom = (i: number, reason: string) => {
    for (const t of chain.slice(i)) skip(t, reason);
  };

  // Built once per walk; each target adds its own callbacks.
  const retryBase: RetryOptions = {
    clock,
    signal,
    deadline,
    minAttemptMs,
    attemptHonoursSignal: opts.attemptHonoursSignal === true,
  };
  if (opts.sleep) retryBase.sleep = opts.sleep;
  if (opts.random) retryBase.random = opts.random;

  for (let i = 0; i < chain.length; i++) {
    const target = chain[i]!;
    if (signal?.aborted) throw new FallbackError("aborted", path, abortError(signal));
    if (!hasTimeFor(now(), deadline, minAttemptMs)) {
      skipFrom(i, "deadline exceeded");
      throw new FallbackError("deadline", path, lastError ?? new DeadlineExceededError());
    }

    const breaker = opts.breakers.get(target.id);
    const started = now();
    let calls = 0;
    let committed = false;
    let refusal: BreakerRefusal | undefined;
    let lastUpstream: unknown;
    let gaveUp = "max_attempts" as GiveUpReason; // set by onGiveUp

    const once = async (info: AttemptInfo): Promise<R> => {
      const permit = breaker.tryAcquire();
      if (!permit.allowed) {
        refusal = permit;
        throw new BreakerRefused(permit);
      }
      calls++;
      const t0 = now();
      let deferred = false;
      const ctx: AttemptContext = {
        attempt: info.attempt,
        signal: info.signal,
        deadline: info.deadline,
        commit: () => {
          committed = true;
        },
        deferOutcome: () => {
          deferred = true;
          return outcomeHandle(breaker, permit, t0, now);
        },
      };
      try {
        const r = await attempt(target, ctx);
        if (!deferred) breaker.onSuccess(permit, now() - t0);
        return r;
      } catch (err) {
        // A deferred outcome is recorded here too: nobody will settle the handle of an attempt that threw.
        if (signal?.aborted) breaker.release(permit);
        else breaker.onError(permit, now() - t0, err);
        lastUpstream = err;
        throw err;
      }
    };

    try {
      const result = await withRetries(once, opts.retry, {
        ...retryBase,
        isRetryable: (err) => !committed && isRetryableError(err),
        onRetry: (r) =>
          onEvent?.({
            type: "retry",
            versionId: target.id,
            attempt: r.attempt,
            delayMs: r.delayMs,
            reason: describeError(r.error),
          }),
        onGiveUp: (g) => {
          gaveUp = g.reason;
        },
      });
      const durationMs = now() - started;
      path.push({
        versionId: target.id,
        version: label(target),
        outcome: "served",
        attempts: calls,
        durationMs,
      });
      onEvent?.({ type: "served", versionId: target.id, attempts: calls, durationMs });
      return { result, servedBy: target, path };
    } catch (err) {
      if (calls === 0 && refusal) {
        const reason = refusal.state === "HALF_OPEN" ? "breaker half-open" : "breaker open";
        skip(target, reason);
        continue;
      }
      if (calls === 0 && err instanceof DeadlineExceededError) {
        skipFrom(i, "deadline exceeded");
        throw new FallbackError("deadline", path, lastError ?? err);
      }
      const aborted = signal?.aborted === true;
      if (aborted && calls === 0) throw new FallbackError("aborted", path, abortError(signal!));
      const error = err instanceof BreakerRefused ? lastUpstream : err;
      const stop = aborted
        ? "aborted"
        : committed
          ? "committed"
          : err instanceof BreakerRefused
            ? "breaker_open"
            : gaveUp;
      lastError = aborted ? abortError(signal!) : error;
      const reason = describeError(lastError);
      path.push({
        versionId: target.id,
        version: label(target),
        outcome: "failed",
        reason,
        attempts: calls,
        gaveUp: stop,
        durationMs: now() - started,
      });
      onEvent?.({ type: "failed", versionId: target.id, reason, attempts: calls });
      if (aborted) throw new FallbackError("aborted", path, lastError);
      if (committed) throw new FallbackError("committed", path, error);
      if (!shouldFallback(error)) throw new FallbackError("not_fallbackable", path, error);
      lastGaveUp = stop === "deadline" ? "deadline" : "exhausted";
    }
  }
  throw new FallbackError(lastGaveUp, path, lastError);
}

function outcomeHandle(
  breaker: CircuitBreaker,
  permit: BreakerPermission,
  t0: number,
  now: () => number,
): OutcomeHandle {
  return {
    success: (durationMs = now() - t0) => breaker.onSuccess(permit, durationMs),
    failure: (err, durationMs = now() - t0) => breaker.onError(permit, durationMs, err),
  };
}
