// Pearson chi-square goodness of fit, and the sample-ratio-mismatch check built on it.

import { chiSquareSf } from "./distributions.ts";
import {
  fail,
  requireMinLength,
  requireNonNegative,
  requirePositive,
  requireProbability,
  requireSameLength,
} from "./validate.ts";

export interface ChiSquareResult {
  chiSquare: number;
  /** Degrees of freedom: number of cells - 1. */
  df: number;
  p: number;
  /** Expected count of each cell. */
  expected: number[];
}

/**
 * Pearson's chi-square goodness of fit of `observed` counts against `weights` (any positive
 * scale: they are normalised to the observed total).
 */
export function chiSquareGoodnessOfFit(
  observed: readonly number[],
  weights: readonly number[],
): ChiSquareResult {
  return goodnessOfFit("chiSquareGoodnessOfFit", observed, weights, "observed", "weights");
}

/** The goodness of fit, reporting invalid input under the caller's function and argument names. */
export function goodnessOfFit(
  fn: string,
  observed: readonly number[],
  weights: readonly number[],
  obsName: string,
  wName: string,
): ChiSquareResult {
  requireMinLength(fn, obsName, observed, 2);
  requireMinLength(fn, wName, weights, 2);
  requireSameLength(fn, obsName, observed, wName, weights);
  let total = 0;
  let weightTotal = 0;
  for (let i = 0; i < observed.length; i++) {
    requireNonNegative(fn, `${obsName}[${i}]`, observed[i]!);
    requirePositive(fn, `${wName}[${i}]`, weights[i]!);
    total += observed[i]!;
    weightTotal += weights[i]!;
  }
  if (total === 0) fail(fn, obsName, "must not be all zero");
  const expected = weights.map((w) => (total * w) / weightTotal);
  let chiSquare = 0;
  for (let i = 0; i < observed.length; i++) {
    const e = expected[i]!;
    chiSquare += (observed[i]! - e) ** 2 / e;
  }
  const df = observed.length - 1;
  return { chiSquare, df, p: chiSquareSf(chiSquare, df), expected };
}

export interface SrmOptions {
  /** p-value below which the split is flagged as a mismatch (default 0.001). */
  threshold?: number;
}

export interface SrmResult extends ChiSquareResult {
  mismatch: boolean;
}

/**
 * Sample-ratio-mismatch check: are the units observed per arm consistent with the
 * configured traffic weights? A chi-square goodness of fit with k - 1 degrees of freedom.
 */
export function sampleRatioMismatch(
  observed: readonly number[],
  weights: readonly number[],
  options: SrmOptions = {},
): SrmResult {
  const fn = "sampleRatioMismatch";
  const { threshold = 0.001 } = options;
  requireProbability(fn, "options.threshold", threshold, true);
  const result = goodnessOfFit(fn, observed, weights, "observed", "weights");
  return { ...result, mismatch: result.p < threshold };
}
