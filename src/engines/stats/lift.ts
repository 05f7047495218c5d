// Absolute and relative lift with delta-method intervals: the frequentist model of
// GrowthBook's gbstats (Welch degrees of freedom, Student t, unpooled variances).

import { studentTQuantile, studentTSf } from "./distributions.ts";
import { type ArmSummary, moments, welchDf } from "./summary.ts";
import { fail, requireProbability } from "./validate.ts";

export interface LiftOptions {
  /** Relative lift (treatment/control - 1) when true (default); absolute difference when false. */
  relative?: boolean;
  /** 1 - confidence level of `ci` (default 0.05). */
  alpha?: number;
}

export interface LiftResult {
  relative: boolean;
  controlMean: number;
  treatmentMean: number;
  /** treatmentMean - controlMean, or treatmentMean / controlMean - 1 when relative. */
  estimate: number;
  /** Standard error of the estimate (delta method when relative). */
  se: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  ci: [number, number];
  pTwoSided: number;
}

/**
 * Lift of treatment over control. Each arm is { successes, n } (variance p(1 - p)),
 * { mean, variance, n } or { sum, sumSquares, n } (sample variance), with n >= 2.
 *
 * Relative lift uses the delta method:
 * Var(mT/mC - 1) = vT/(nT mC^2) + vC mT^2/(nC mC^4).
 */
export function frequentistLift(
  control: ArmSummary,
  treatment: ArmSummary,
  options: LiftOptions = {},
): LiftResult {
  const fn = "frequentistLift";
  const { relative = true, alpha = 0.05 } = options;
  requireProbability(fn, "options.alpha", alpha, true);
  const c = moments(fn, "control", control);
  const t = moments(fn, "treatment", treatment);
  if (relative && c.mean === 0) fail(fn, "control", "has mean 0; relative lift is undefined");
  const estimate = relative ? t.mean / c.mean - 1 : t.mean - c.mean;
  const variance = relative
    ? t.variance / (t.n * c.mean ** 2) + (c.variance * t.mean ** 2) / (c.n * c.mean ** 4)
    : t.variance / t.n + c.variance / c.n;
  if (variance === 0) fail(fn, "control and treatment", "both have zero variance; the test is undefined");
  const se = Math.sqrt(variance);
  const df = welchDf(c, t);
  const tc = -studentTQuantile(alpha / 2, df);
  return {
    relative,
    controlMean: c.mean,
    treatmentMean: t.mean,
    estimate,
    se,
    df,
    ci: [estimate - tc * se, estimate + tc * se],
    pTwoSided: Math.min(1, 2 * studentTSf(Math.abs(estimate / se), df)),
  };
}
