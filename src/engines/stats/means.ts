// Welch's unequal-variance t-test, from raw samples or from summary statistics.

import { studentTCdf, studentTQuantile, studentTSf } from "./distributions.ts";
import {
  type MeanSummary,
  type Moments,
  moments,
  type SumSummary,
  sampleMoments,
  welchDf,
} from "./summary.ts";
import { fail, requireProbability } from "./validate.ts";

export interface WelchOptions {
  /** 1 - confidence level of `ci` (default 0.05). */
  alpha?: number;
}

export interface WelchResult {
  meanX: number;
  meanY: number;
  /** meanX - meanY. */
  estimate: number;
  se: number;
  t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  pTwoSided: number;
  /** p-value against H1: meanX > meanY. */
  pGreater: number;
  /** p-value against H1: meanX < meanY. */
  pLess: number;
  ci: [number, number];
}

/** Welch's t-test on two raw samples (each of at least 2 finite values); tests meanX - meanY. */
export function welchTTest(
  x: readonly number[],
  y: readonly number[],
  options: WelchOptions = {},
): WelchResult {
  const fn = "welchTTest";
  return welch(fn, sampleMoments(fn, "x", x), sampleMoments(fn, "y", y), options);
}

/** Welch's t-test from { mean, variance, n } or { sum, sumSquares, n } of each sample (n >= 2). */
export function welchTTestFromSummary(
  x: MeanSummary | SumSummary,
  y: MeanSummary | SumSummary,
  options: WelchOptions = {},
): WelchResult {
  const fn = "welchTTestFromSummary";
  if (typeof x === "object" && x !== null && "successes" in x) fail(fn, "x", "must be a mean or sum summary");
  if (typeof y === "object" && y !== null && "successes" in y) fail(fn, "y", "must be a mean or sum summary");
  return welch(fn, moments(fn, "x", x), moments(fn, "y", y), options);
}

function welch(fn: string, x: Moments, y: Moments, options: WelchOptions): WelchResult {
  const { alpha = 0.05 } = options;
  requireProbability(fn, "options.alpha", alpha, true);
  const se = Math.sqrt(x.variance / x.n + y.variance / y.n);
  if (se === 0) fail(fn, "x and y", "both have zero variance; the t statistic is undefined");
  const estimate = x.mean - y.mean;
  const t = estimate / se;
  const df = welchDf(x, y);
  const tc = -studentTQuantile(alpha / 2, df);
  return {
    meanX: x.mean,
    meanY: y.mean,
    estimate,
    se,
    t,
    df,
    pTwoSided: Math.min(1, 2 * studentTSf(Math.abs(t), df)),
    pGreater: studentTSf(t, df),
    pLess: studentTCdf(t, df),
    ci: [estimate - tc * se, estimate + tc * se],
  };
}
