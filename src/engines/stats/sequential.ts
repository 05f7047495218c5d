// Always-valid inference for a difference in means or proportions: the mixture sequential
// probability ratio test (mSPRT) with a normal mixing distribution (Johari, Koomen, Pekelis
// & Walsh, "Peeking at A/B tests", KDD 2017; Optimizely's Stats Engine). Its confidence
// sequence is the normal-mixture boundary of Howard et al. (2021).
//
// With estimate d = treatmentMean - controlMean, its variance V = vT/nT + vC/nC, and the
// effect given a N(0, tau^2) prior under H1 (tau^2 = `mixingVariance`), the mixture
// likelihood ratio against H0: effect = theta0 is
//
//   Lambda = sqrt(V / (V + tau^2)) exp( tau^2 (d - theta0)^2 / (2 V (V + tau^2)) ).
//
// Under H0, Lambda is a non-negative martingale, so by Ville's inequality
// P(Lambda ever >= 1/alpha) <= alpha however often one looks. The always-valid p-value is
// the running minimum of 1/Lambda(theta0 = 0); the confidence sequence is the running
// intersection of { theta0 : Lambda(theta0) < 1/alpha }.

import { type ArmSummary, moments } from "./summary.ts";
import { fail, requirePositive, requireProbability } from "./validate.ts";

export interface SequentialOptions {
  /**
   * tau^2, the variance of the normal mixing distribution over the effect, in the squared
   * units of the difference. Fix it before the experiment starts (see
   * `mixingVarianceForHorizon`); choosing it from the data voids the guarantee.
   */
  mixingVariance: number;
  /** Error rate of the test and 1 - coverage of the confidence sequence (default 0.05). */
  alpha?: number;
  /** The result of the previous look at the same experiment, to carry the running p and interval. */
  previous?: SequentialResult;
}

export interface SequentialResult {
  controlMean: number;
  treatmentMean: number;
  /** treatmentMean - controlMean at this look. */
  estimate: number;
  /** Standard error of the estimate at this look, sqrt(V). */
  se: number;
  /** ln Lambda for H0: no difference, at this look. */
  logLikelihoodRatio: number;
  /** Always-valid p-value: the minimum of 1/Lambda over this and every earlier look. */
  pValue: number;
  /** Always-valid confidence interval: the intersection of this look's interval with earlier ones. */
  ci: [number, number];
  /** Number of looks so far, this one included. */
  looks: number;
  mixingVariance: number;
  alpha: number;
}

/**
 * One look of the mSPRT comparing treatment with control. Arms are { successes, n }
 * (variance p(1 - p)), { mean, variance, n } or { sum, sumSquares, n }. Pass the previous
 * look's result as `options.previous` to get the running always-valid p and interval.
 */
export function alwaysValidTest(
  control: ArmSummary,
  treatment: ArmSummary,
  options: SequentialOptions,
): SequentialResult {
  const fn = "alwaysValidTest";
  if (typeof options !== "object" || options === null) fail(fn, "options", "must give mixingVariance");
  const { mixingVariance: tau2, alpha = 0.05, previous } = options;
  requirePositive(fn, "options.mixingVariance", tau2);
  requireProbability(fn, "options.alpha", alpha, true);
  if (previous && (previous.mixingVariance !== tau2 || previous.alpha !== alpha)) {
    fail(fn, "options.previous", "was computed with a different mixingVariance or alpha");
  }
  const c = moments(fn, "control", control, 1);
  const t = moments(fn, "treatment", treatment, 1);
  const estimate = t.mean - c.mean;
  const v = c.variance / c.n + t.variance / t.n;

  let logLikelihoodRatio: number;
  let halfWidth: number;
  if (v === 0) {
    // No sampling noise at all: the data either show a difference or they do not.
    logLikelihoodRatio = estimate === 0 ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    halfWidth = 0;
  } else {
    logLikelihoodRatio = 0.5 * Math.log(v / (v + tau2)) + (tau2 * estimate ** 2) / (2 * v * (v + tau2));
    // Lambda(theta0) >= 1/alpha  <=>  (d - theta0)^2 >= V (V + tau^2)/tau^2 (2 ln(1/alpha) + ln((V + tau^2)/V))
    halfWidth = Math.sqrt(((v * (v + tau2)) / tau2) * (-2 * Math.log(alpha) + Math.log1p(tau2 / v)));
  }
  const pLook = Math.min(1, Math.exp(-logLikelihoodRatio));
  let ci: [number, number] = [estimate - halfWidth, estimate + halfWidth];
  let pValue = pLook;
  if (previous) {
    pValue = Math.min(previous.pValue, pLook);
    ci = [Math.max(previous.ci[0], ci[0]), Math.min(previous.ci[1], ci[1])];
  }
  return {
    controlMean: c.mean,
    treatmentMean: t.mean,
    estimate,
    se: Math.sqrt(v),
    logLikelihoodRatio,
    pValue,
    ci,
    looks: (previous?.looks ?? 0) + 1,
    mixingVariance: tau2,
    alpha,
  };
}

/**
 * The mixing variance whose confidence sequence is narrowest when the estimate's variance
 * reaches `varianceAtHorizon` (the squared standard error expected at the planned sample
 * size, e.g. (varC + varT)/n per arm). It solves r = 2 ln(1/alpha) + ln(1 + r) for
 * r = tau^2 / V; GrowthBook's tuning N* is the first step of the same iteration.
 */
export function mixingVarianceForHorizon(varianceAtHorizon: number, alpha = 0.05): number {
  const fn = "mixingVarianceForHorizon";
  requirePositive(fn, "varianceAtHorizon", varianceAtHorizon);
  requireProbability(fn, "alpha", alpha, true);
  const c = -2 * Math.log(alpha);
  let r = c;
  // A contraction (derivative 1/(1 + r) < 1): a few dozen steps reach double precision.
  for (let i = 0; i < 200; i++) {
    const next = c + Math.log1p(r);
    if (Math.abs(next - r) <= 1e-15 * next) {
      r = next;
      break;
    }
    r = next;
  }
  return r * varianceAtHorizon;
}
