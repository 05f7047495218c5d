// Distribution drift between a reference window and a current one: population stability
// index (PSI) and a chi-square goodness of fit of the current counts.

import { type ChiSquareResult, goodnessOfFit } from "./srm.ts";
import {
  fail,
  requireMinLength,
  requireNonNegative,
  requireProbability,
  requireSameLength,
} from "./validate.ts";

export interface PsiOptions {
  /**
   * Share substituted for an empty bin on either side, so its log ratio is finite
   * (default 0.0001, as Evidently does). Other shares are not renormalised.
   */
  emptyBinFill?: number;
}

export interface PsiResult {
  /** sum over bins of (actual - expected) ln(actual / expected). */
  psi: number;
  /** Each bin's term of the sum, in input order. */
  contributions: number[];
  expectedShares: number[];
  actualShares: number[];
}

function fillOption(fn: string, options: PsiOptions): number {
  const { emptyBinFill = 1e-4 } = options;
  requireProbability(fn, "options.emptyBinFill", emptyBinFill, true);
  return emptyBinFill;
}

function psiOf(expected: readonly number[], actual: readonly number[], fill: number): PsiResult {
  const e = expected.map((x) => (x === 0 ? fill : x));
  const a = actual.map((x) => (x === 0 ? fill : x));
  const contributions = e.map((ei, i) => (a[i]! - ei) * Math.log(a[i]! / ei));
  return {
    psi: contributions.reduce((s, x) => s + x, 0),
    contributions,
    expectedShares: e,
    actualShares: a,
  };
}

function checkShares(fn: string, arg: string, shares: readonly number[]): void {
  let total = 0;
  for (let i = 0; i < shares.length; i++) {
    requireProbability(fn, `${arg}[${i}]`, shares[i]!);
    total += shares[i]!;
  }
  if (Math.abs(total - 1) > 1e-6) fail(fn, arg, `must sum to 1 (got ${total})`);
}

/** PSI between two binned distributions given as shares (each summing to 1). */
export function psi(
  expectedShares: readonly number[],
  actualShares: readonly number[],
  options: PsiOptions = {},
): PsiResult {
  const fn = "psi";
  requireMinLength(fn, "expectedShares", expectedShares, 1);
  requireMinLength(fn, "actualShares", actualShares, 1);
  requireSameLength(fn, "expectedShares", expectedShares, "actualShares", actualShares);
  checkShares(fn, "expectedShares", expectedShares);
  checkShares(fn, "actualShares", actualShares);
  return psiOf(expectedShares, actualShares, fillOption(fn, options));
}

function toShares(fn: string, arg: string, counts: readonly number[]): number[] {
  let total = 0;
  for (let i = 0; i < counts.length; i++) {
    requireNonNegative(fn, `${arg}[${i}]`, counts[i]!);
    total += counts[i]!;
  }
  if (total === 0) fail(fn, arg, "must not be all zero");
  return counts.map((c) => c / total);
}

/** PSI between two binned distributions given as counts per bin (same bins, same order). */
export function psiFromCounts(
  referenceCounts: readonly number[],
  currentCounts: readonly number[],
  options: PsiOptions = {},
): PsiResult {
  const fn = "psiFromCounts";
  requireMinLength(fn, "referenceCounts", referenceCounts, 1);
  requireMinLength(fn, "currentCounts", currentCounts, 1);
  requireSameLength(fn, "referenceCounts", referenceCounts, "currentCounts", currentCounts);
  const fill = fillOption(fn, options);
  return psiOf(
    toShares(fn, "referenceCounts", referenceCounts),
    toShares(fn, "currentCounts", currentCounts),
    fill,
  );
}

export type Category = string | number | boolean;

export interface CategoryCounts {
  /** Every category seen in either window, in order of first appearance (reference first). */
  categories: Category[];
  referenceCounts: number[];
  currentCounts: number[];
}

/** Counts of each category in two windows of raw categorical values, aligned on the same categories. */
export function categoryCounts(reference: readonly Category[], current: readonly Category[]): CategoryCounts {
  const fn = "categoryCounts";
  if (!Array.isArray(reference)) fail(fn, "reference", "must be an array");
  if (!Array.isArray(current)) fail(fn, "current", "must be an array");
  const index = new Map<Category, number>();
  const categories: Category[] = [];
  for (const v of [...reference, ...current]) {
    if (!index.has(v)) {
      index.set(v, categories.length);
      categories.push(v);
    }
  }
  const count = (values: readonly Category[]): number[] => {
    const out = new Array<number>(categories.length).fill(0);
    for (const v of values) {
      const k = index.get(v)!;
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  };
  return { categories, referenceCounts: count(reference), currentCounts: count(current) };
}

/**
 * Chi-square goodness of fit of the current counts against the reference distribution:
 * expected = reference shares scaled to the current total, df = bins - 1. Every bin must
 * have a reference count above zero.
 */
export function chiSquareDrift(
  referenceCounts: readonly number[],
  currentCounts: readonly number[],
): ChiSquareResult {
  return goodnessOfFit("chiSquareDrift", currentCounts, referenceCounts, "currentCounts", "referenceCounts");
}
