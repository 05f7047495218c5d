// Paired comparisons: two versions measured on the same cases. McNemar's test for pass/fail
// (only the discordant pairs, cases exactly one version got right, carry information about
// which is better) and Student's paired t-test for a measurement (score, latency, cost).

import { binomialCdf, chiSquareSf, studentTQuantile, studentTSf } from "./distributions.ts";
import {
  requireCount,
  requireFinite,
  requireMinLength,
  requireProbability,
  requireSameLength,
} from "./validate.ts";

export interface McNemarInput {
  /** Pairs where only A succeeded (A right, B wrong). */
  onlyA: number;
  /** Pairs where only B succeeded (B right, A wrong). */
  onlyB: number;
}

export interface McNemarResult {
  /** Number of discordant pairs, onlyA + onlyB. */
  discordant: number;
  /** Exact two-sided p: 2 P(X <= min(onlyA, onlyB)) for X ~ Binomial(discordant, 1/2), capped at 1. */
  exactPTwoSided: number;
  /** (onlyA - onlyB)^2 / (onlyA + onlyB). */
  chiSquare: number;
  p: number;
  /** Edwards' continuity correction: max(0, |onlyA - onlyB| - 1)^2 / (onlyA + onlyB). */
  chiSquareContinuityCorrected: number;
  pContinuityCorrected: number;
}

/**
 * McNemar's test of H0: A and B succeed equally often. With no discordant pairs there is no
 * evidence either way: the statistics are 0 and every p-value is 1.
 */
export function mcNemarTest(input: McNemarInput): McNemarResult {
  const fn = "mcNemarTest";
  if (typeof input !== "object" || input === null) {
    throw new RangeError(`${fn}: input must be an object { onlyA, onlyB }`);
  }
  requireCount(fn, "onlyA", input.onlyA);
  requireCount(fn, "onlyB", input.onlyB);
  const { onlyA: b, onlyB: c } = input;
  const n = b + c;
  if (n === 0) {
    return {
      discordant: 0,
      exactPTwoSided: 1,
      chiSquare: 0,
      p: 1,
      chiSquareContinuityCorrected: 0,
      pContinuityCorrected: 1,
    };
  }
  const chiSquare = (b - c) ** 2 / n;
  const chiSquareContinuityCorrected = Math.max(0, Math.abs(b - c) - 1) ** 2 / n;
  return {
    discordant: n,
    exactPTwoSided: Math.min(1, 2 * binomialCdf(Math.min(b, c), n, 0.5)),
    chiSquare,
    p: chiSquareSf(chiSquare, 1),
    chiSquareContinuityCorrected,
    pContinuityCorrected: chiSquareSf(chiSquareContinuityCorrected, 1),
  };
}

export interface PairedTOptions {
  /** Confidence level of the interval on the mean difference (default 0.95). */
  confidence?: number;
}

export interface PairedTResult {
  /** Pairs compared. */
  n: number;
  df: number;
  /** Mean of x[i] − y[i]. */
  meanDifference: number;
  /** Sample standard deviation of the differences (n − 1 in the denominator). */
  sdDifference: number;
  standardError: number;
  t: number;
  /** Two-sided p of H0: the mean difference is 0. */
  pTwoSided: number;
  /** Interval on the mean difference at `confidence`. */
  ci: [number, number];
}

/**
 * Student's paired t-test of x − y (R's `t.test(x, y, paired = TRUE)`, scipy's `ttest_rel`):
 * the one-sample t-test on the differences of pairs measured on the same units. Differences
 * that are all equal have no spread: all zero is no evidence (t 0, p 1); all equal and
 * non-zero is t ±Infinity and p 0, as scipy answers.
 */
export function pairedTTest(
  x: readonly number[],
  y: readonly number[],
  opts: PairedTOptions = {},
): PairedTResult {
  const fn = "pairedTTest";
  requireMinLength(fn, "x", x, 2);
  requireSameLength(fn, "x", x, "y", y);
  const confidence = opts.confidence ?? 0.95;
  requireProbability(fn, "confidence", confidence, true);
  const d = x.map((xi, i) => {
    const yi = y[i]!;
    requireFinite(fn, `x[${i}]`, xi);
    requireFinite(fn, `y[${i}]`, yi);
    return xi - yi;
  });
  const n = d.length;
  const df = n - 1;
  const mean = d.reduce((s, v) => s + v, 0) / n;
  const sd = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / df);
  const se = sd / Math.sqrt(n);
  if (se === 0) {
    const t = mean === 0 ? 0 : mean > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    return {
      n,
      df,
      meanDifference: mean,
      sdDifference: 0,
      standardError: 0,
      t,
      pTwoSided: mean === 0 ? 1 : 0,
      ci: [mean, mean],
    };
  }
  const t = mean / se;
  const half = studentTQuantile(1 - (1 - confidence) / 2, df) * se;
  return {
    n,
    df,
    meanDifference: mean,
    sdDifference: sd,
    standardError: se,
    t,
    pTwoSided: Math.min(1, 2 * studentTSf(Math.abs(t), df)),
    ci: [mean - half, mean + half],
  };
}
