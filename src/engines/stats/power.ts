// Sample size and power for two-sided tests of two proportions and of two means, equal
// arms, normal approximation. Power counts rejections in the direction of the true
// effect only (the other tail adds at most alpha/2), as the usual closed forms do.

import { normalCdf, normalQuantile } from "./distributions.ts";
import { fail, requirePositive, requireProbability } from "./validate.ts";

export interface SampleSize {
  /** The exact solution of the sample-size equation, per arm. */
  perArm: number;
  /** perArm rounded up to a whole unit. */
  perArmRoundedUp: number;
}

export interface TwoProportionsDesign {
  /** Rate in the control arm. */
  p1: number;
  /** Rate in the treatment arm that the test should detect. */
  p2: number;
  /** Two-sided significance level (default 0.05). */
  alpha?: number;
  /**
   * Standard error under H0 from the pooled rate (p1 + p2)/2 (default true), as a pooled
   * z-test will use; false uses sqrt(p1(1-p1) + p2(1-p2)) throughout.
   */
  pooled?: boolean;
}

function checkProportions(fn: string, d: TwoProportionsDesign): { alpha: number; pooled: boolean } {
  const { alpha = 0.05, pooled = true } = d;
  requireProbability(fn, "p1", d.p1, true);
  requireProbability(fn, "p2", d.p2, true);
  if (d.p1 === d.p2) fail(fn, "p2", "must differ from p1");
  requireProbability(fn, "alpha", alpha, true);
  return { alpha, pooled };
}

function roundUp(perArm: number): SampleSize {
  // Forgive the last bits of rounding so an exact integer solution is not bumped by one.
  return { perArm, perArmRoundedUp: Math.ceil(perArm * (1 - 1e-12)) };
}

/**
 * Units per arm for a two-sided two-proportion z-test.
 * Unpooled: n = (z(1-a/2) + z(power))^2 (p1q1 + p2q2) / (p2 - p1)^2.
 * Pooled: n = (z(1-a/2) sqrt(2 pbar qbar) + z(power) sqrt(p1q1 + p2q2))^2 / (p2 - p1)^2.
 */
export function sampleSizeTwoProportions(design: TwoProportionsDesign & { power?: number }): SampleSize {
  const fn = "sampleSizeTwoProportions";
  const { alpha, pooled } = checkProportions(fn, design);
  const { power = 0.8 } = design;
  requireProbability(fn, "power", power, true);
  const { p1, p2 } = design;
  const zA = -normalQuantile(alpha / 2);
  const zB = normalQuantile(power);
  const sdAlt = Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  const pbar = (p1 + p2) / 2;
  const sdNull = pooled ? Math.sqrt(2 * pbar * (1 - pbar)) : sdAlt;
  const root = zA * sdNull + zB * sdAlt;
  if (root <= 0) fail(fn, "power", `is too low for alpha ${alpha} (got ${power})`);
  return roundUp(root ** 2 / (p2 - p1) ** 2);
}

/** Power of a two-sided two-proportion z-test with `n` units per arm (n may be fractional). */
export function powerTwoProportions(design: TwoProportionsDesign & { n: number }): number {
  const fn = "powerTwoProportions";
  const { alpha, pooled } = checkProportions(fn, design);
  requirePositive(fn, "n", design.n);
  const { p1, p2, n } = design;
  const zA = -normalQuantile(alpha / 2);
  const sdAlt = Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  const pbar = (p1 + p2) / 2;
  const sdNull = pooled ? Math.sqrt(2 * pbar * (1 - pbar)) : sdAlt;
  return normalCdf((Math.abs(p2 - p1) * Math.sqrt(n) - zA * sdNull) / sdAlt);
}

export interface TwoMeansDesign {
  /** Difference in means to detect. */
  delta: number;
  /** Standard deviation of the metric per unit, assumed equal in both arms. */
  sd: number;
  /** Two-sided significance level (default 0.05). */
  alpha?: number;
}

function checkMeans(fn: string, d: TwoMeansDesign): number {
  const { alpha = 0.05 } = d;
  if (typeof d.delta !== "number" || !Number.isFinite(d.delta) || d.delta === 0) {
    fail(fn, "delta", `must be a finite non-zero number (got ${d.delta})`);
  }
  requirePositive(fn, "sd", d.sd);
  requireProbability(fn, "alpha", alpha, true);
  return alpha;
}

/** Units per arm for a two-sided test of two means: n = 2 (z(1-a/2) + z(power))^2 sd^2 / delta^2. */
export function sampleSizeMeans(design: TwoMeansDesign & { power?: number }): SampleSize {
  const fn = "sampleSizeMeans";
  const alpha = checkMeans(fn, design);
  const { power = 0.8 } = design;
  requireProbability(fn, "power", power, true);
  const root = -normalQuantile(alpha / 2) + normalQuantile(power);
  if (root <= 0) fail(fn, "power", `is too low for alpha ${alpha} (got ${power})`);
  return roundUp((2 * root ** 2 * design.sd ** 2) / design.delta ** 2);
}

/** Power of a two-sided test of two means with `n` units per arm. */
export function powerMeans(design: TwoMeansDesign & { n: number }): number {
  const fn = "powerMeans";
  const alpha = checkMeans(fn, design);
  requirePositive(fn, "n", design.n);
  const zA = -normalQuantile(alpha / 2);
  return normalCdf((Math.abs(design.delta) * Math.sqrt(design.n / 2)) / design.sd - zA);
}
