// Is a rate above an absolute limit? An exact one-sided binomial test, so that a guard
// fails on evidence rather than on a noisy point estimate.

import { betaQuantile, binomialSf } from "../stats/index.ts";

export interface RateAboveLimit {
  /** x / n. */
  rate: number;
  /** One-sided (1 - alpha) Clopper–Pearson lower bound of the rate; 0 when x = 0. */
  lowerBound: number;
  /** Exact p-value of H0: rate <= limit against H1: rate > limit, P(X >= x | n, limit). */
  pAbove: number;
  /** pAbove < alpha, which is the same as lowerBound > limit. */
  exceeds: boolean;
}

/** Exact test of whether `x` events out of `n` show a rate above `limit` at one-sided `alpha`. */
export function rateAboveLimit(x: number, n: number, limit: number, alpha: number): RateAboveLimit {
  if (!Number.isSafeInteger(n) || n < 1)
    throw new RangeError(`rateAboveLimit: n must be an integer >= 1, got ${n}`);
  if (!Number.isSafeInteger(x) || x < 0 || x > n)
    throw new RangeError(`rateAboveLimit: x must be an integer in [0, n], got ${x}`);
  if (!(limit >= 0 && limit < 1))
    throw new RangeError(`rateAboveLimit: limit must be in [0, 1), got ${limit}`);
  if (!(alpha > 0 && alpha < 1))
    throw new RangeError(`rateAboveLimit: alpha must be in (0, 1), got ${alpha}`);
  const pAbove = x === 0 ? 1 : binomialSf(x - 1, n, limit);
  const lowerBound = x === 0 ? 0 : betaQuantile(alpha, x, n - x + 1);
  return { rate: x / n, lowerBound, pAbove, exceeds: pAbove < alpha };
}
