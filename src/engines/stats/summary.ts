// The shapes an arm of an experiment can be summarised in, and the one place that turns
// each into a mean and a variance.

import { fail, requireCount, requireFinite, requireNonNegative, requireSampleSize } from "./validate.ts";

/** A binary metric: `successes` out of `n` units. */
export interface ProportionSummary {
  successes: number;
  n: number;
}

/** A continuous metric given by its sample mean and sample variance (n - 1 denominator). */
export interface MeanSummary {
  mean: number;
  variance: number;
  n: number;
}

/** A continuous metric given by its sum and sum of squares over `n` units. */
export interface SumSummary {
  sum: number;
  sumSquares: number;
  n: number;
}

/** Any summary of one arm. */
export type ArmSummary = ProportionSummary | MeanSummary | SumSummary;

export interface Moments {
  mean: number;
  /** Per-unit variance: the sample variance for means, p(1 - p) for proportions. */
  variance: number;
  n: number;
}

export function isProportion(s: ArmSummary): s is ProportionSummary {
  return typeof s === "object" && s !== null && "successes" in s;
}

export function checkProportion(fn: string, arg: string, s: ProportionSummary, minN = 1): void {
  if (typeof s !== "object" || s === null) fail(fn, arg, "must be an object { successes, n }");
  requireSampleSize(fn, `${arg}.n`, s.n, minN);
  requireCount(fn, `${arg}.successes`, s.successes);
  if (s.successes > s.n)
    fail(fn, `${arg}.successes`, `must not exceed ${arg}.n (got ${s.successes} > ${s.n})`);
}

/**
 * Mean and variance of one arm. Proportions get p(1 - p) (the GrowthBook convention: no
 * n - 1); sums get the sample variance (sumSquares - sum^2/n)/(n - 1).
 */
export function moments(fn: string, arg: string, s: ArmSummary, minN = 2): Moments {
  if (typeof s !== "object" || s === null) fail(fn, arg, "must be an arm summary object");
  if (isProportion(s)) {
    checkProportion(fn, arg, s, minN);
    const p = s.successes / s.n;
    return { mean: p, variance: p * (1 - p), n: s.n };
  }
  requireSampleSize(fn, `${arg}.n`, s.n, minN);
  if ("sumSquares" in s) {
    requireFinite(fn, `${arg}.sum`, s.sum);
    requireNonNegative(fn, `${arg}.sumSquares`, s.sumSquares);
    const mean = s.sum / s.n;
    // Rounding can push an all-equal sample's variance a hair below zero.
    const variance = Math.max(0, (s.sumSquares - s.sum * mean) / (s.n - 1));
    return { mean, variance, n: s.n };
  }
  if ("variance" in s) {
    requireFinite(fn, `${arg}.mean`, s.mean);
    requireNonNegative(fn, `${arg}.variance`, s.variance);
    return { mean: s.mean, variance: s.variance, n: s.n };
  }
  return fail(fn, arg, "must have { successes, n }, { mean, variance, n } or { sum, sumSquares, n }");
}

/** Mean and sample variance (n - 1) of raw values, by the two-pass formula. */
export function sampleMoments(fn: string, arg: string, xs: readonly number[]): Moments {
  if (!Array.isArray(xs) || xs.length < 2) {
    fail(fn, arg, `must be an array of at least 2 numbers (got ${Array.isArray(xs) ? xs.length : xs})`);
  }
  let sum = 0;
  for (let i = 0; i < xs.length; i++) {
    requireFinite(fn, `${arg}[${i}]`, xs[i]!);
    sum += xs[i]!;
  }
  const mean = sum / xs.length;
  let ss = 0;
  for (const x of xs) ss += (x - mean) * (x - mean);
  return { mean, variance: ss / (xs.length - 1), n: xs.length };
}

/** Welch–Satterthwaite degrees of freedom for the difference of two means. */
export function welchDf(a: Moments, b: Moments): number {
  const va = a.variance / a.n;
  const vb = b.variance / b.n;
  return (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
}
