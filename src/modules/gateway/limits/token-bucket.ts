import type { Clock } from "../../../lib/clock.ts";

/**
 * Per-key token buckets (the key is the API token id): `burst` tokens at most, refilled
 * continuously at `ratePerSec`. In memory on purpose: the hot path never waits on the
 * database, and each replica enforcing its own bucket is an accepted over-admission.
 *
 * Memory stays bounded: a bucket that has refilled to `burst` is indistinguishable from a
 * fresh one, so `sweep()` drops those, and past `maxKeys` the least recently used bucket
 * is dropped (which at worst hands that key a fresh, full bucket).
 */

export interface BucketLimits {
  ratePerSec: number;
  burst: number;
}

export interface TakeResult {
  ok: boolean;
  /** Whole seconds until `cost` tokens are available (0 when ok): the Retry-After value. */
  retryAfterSec: number;
  /** Tokens left after this call, floored. */
  remaining: number;
  /** Milliseconds until the bucket is full again (rounded up): the rate-limit headers' reset. */
  resetMs: number;
  /** The key's burst, and the rate it refills at. */
  limit: number;
  ratePerSec: number;
}

export interface TokenBucketsOptions extends BucketLimits {
  clock: Clock;
  /** Per-key limits that replace the default ones (e.g. a token with a higher quota). */
  overrides?: (key: string) => BucketLimits | undefined;
  /** Most buckets kept at once; default 100,000. */
  maxKeys?: number;
}

export interface TokenBuckets {
  take(key: string, cost?: number): TakeResult;
  /** Drops buckets that have refilled completely; returns how many were dropped. */
  sweep(): number;
  /** Forgets a key's bucket (e.g. after its limits changed). */
  reset(key: string): void;
  readonly size: number;
}

interface Bucket {
  tokens: number;
  at: number;
  limits: BucketLimits;
}

// Rates like 1/3 per second make refills land a hair under whole numbers.
const EPSILON = 1e-9;

function validate(l: BucketLimits, what: string): BucketLimits {
  if (!(l.ratePerSec > 0) || !Number.isFinite(l.ratePerSec))
    throw new RangeError(`${what}: ratePerSec must be > 0`);
  if (!(l.burst >= 1) || !Number.isFinite(l.burst)) throw new RangeError(`${what}: burst must be >= 1`);
  return l;
}

const untilFull = (b: Bucket) =>
  Math.max(0, Math.ceil(((b.limits.burst - b.tokens) / b.limits.ratePerSec) * 1000 - EPSILON));

export function createTokenBuckets(opts: TokenBucketsOptions): TokenBuckets {
  const defaults = validate({ ratePerSec: opts.ratePerSec, burst: opts.burst }, "token bucket");
  const maxKeys = opts.maxKeys ?? 100_000;
  // Map iteration order is insertion order; re-inserting on use makes the first entry the LRU.
  const buckets = new Map<string, Bucket>();

  const limitsFor = (key: string) => {
    const o = opts.overrides?.(key);
    return o ? validate(o, `token bucket override for ${key}`) : defaults;
  };

  const refill = (b: Bucket, now: number) => {
    const elapsed = Math.max(0, now - b.at);
    b.tokens = Math.min(b.limits.burst, b.tokens + (elapsed * b.limits.ratePerSec) / 1000);
    b.at = now;
  };

  return {
    take(key, cost = 1) {
      if (!(cost > 0)) throw new RangeError("cost must be > 0");
      const now = opts.clock.now().getTime();
      let b = buckets.get(key);
      if (b) {
        buckets.delete(key);
        refill(b, now);
      } else {
        const limits = limitsFor(key);
        b = { tokens: limits.burst, at: now, limits };
        if (buckets.size >= maxKeys) {
          const lru = buckets.keys().next();
          if (!lru.done) buckets.delete(lru.value);
        }
      }
      buckets.set(key, b);
      const { burst, ratePerSec } = b.limits;
      // A cost the bucket can never hold would otherwise get a Retry-After that lies.
      if (cost > burst) throw new RangeError(`cost ${cost} exceeds the burst of ${burst}`);
      if (b.tokens + EPSILON >= cost) {
        b.tokens = Math.max(0, b.tokens - cost);
        return {
          ok: true,
          retryAfterSec: 0,
          remaining: Math.floor(b.tokens + EPSILON),
          resetMs: untilFull(b),
          limit: burst,
          ratePerSec,
        };
      }
      const waitSec = (cost - b.tokens) / ratePerSec;
      return {
        ok: false,
        retryAfterSec: Math.max(1, Math.ceil(waitSec - EPSILON)),
        remaining: Math.floor(b.tokens + EPSILON),
        resetMs: untilFull(b),
        limit: burst,
        ratePerSec,
      };
    },
    sweep() {
      const now = opts.clock.now().getTime();
      let dropped = 0;
      for (const [key, b] of buckets) {
        refill(b, now);
        if (b.tokens + EPSILON >= b.limits.burst) {
          buckets.delete(key);
          dropped++;
        }
      }
      return dropped;
    },
    reset(key) {
      buckets.delete(key);
    },
    get size() {
      return buckets.size;
    },
  };
}
