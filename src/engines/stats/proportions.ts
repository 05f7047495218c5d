// Two-proportion z-test (the test behind statsmodels' proportions_ztest).

import { normalCdf, normalQuantile, normalSf } from "./distributions.ts";
import { checkProportion, type ProportionSummary } from "./summary.ts";
import { requireProbability } from "./validate.ts";

export interface TwoProportionZOptions {
  /** Pool the two arms for the standard error under H0 (default true); false uses each arm's own p. */
  pooled?: boolean;
  /** 1 - confidence level of `ci` (default 0.05). */
  alpha?: number;
}

export interface TwoProportionZResult {
  /** Rate of arm a. */
  pA: number;
  /** Rate of arm b. */
  pB: number;
  /** pA - pB. */
  estimate: number;
  /** The standard error the z statistic is divided by (pooled or unpooled, as asked). */
  se: number;
  z: number;
  pTwoSided: number;
  /** p-value against H1: pA > pB. */
  pGreater: number;
  /** p-value against H1: pA < pB. */
  pLess: number;
  /** Wald interval for pA - pB, always with the unpooled standard error. */
  ci: [number, number];
}

/**
 * z = (pA - pB) / se, with se = sqrt(p(1-p)(1/nA + 1/nB)) for the pooled p when pooled,
 * else sqrt(pA(1-pA)/nA + pB(1-pB)/nB).
 */
export function twoProportionZTest(
  a: ProportionSummary,
  b: ProportionSummary,
  options: TwoProportionZOptions = {},
): TwoProportionZResult {
  const fn = "twoProportionZTest";
  checkProportion(fn, "a", a);
  checkProportion(fn, "b", b);
  const { pooled = true, alpha = 0.05 } = options;
  requireProbability(fn, "options.alpha", alpha, true);
  const pA = a.successes / a.n;
  const pB = b.successes / b.n;
  const estimate = pA - pB;
  const unpooledSe = Math.sqrt((pA * (1 - pA)) / a.n + (pB * (1 - pB)) / b.n);
  const p = (a.successes + b.successes) / (a.n + b.n);
  const se = pooled ? Math.sqrt(p * (1 - p) * (1 / a.n + 1 / b.n)) : unpooledSe;
  // A zero standard error (e.g. no errors in either arm) is no evidence when the rates are
  // equal, and certainty when they differ.
  const z = se === 0 ? (estimate === 0 ? 0 : Math.sign(estimate) * Number.POSITIVE_INFINITY) : estimate / se;
  const zc = -normalQuantile(alpha / 2);
  return {
    pA,
    pB,
    estimate,
    se,
    z,
    pTwoSided: Math.min(1, 2 * normalSf(Math.abs(z))),
    pGreater: normalSf(z),
    pLess: normalCdf(z),
    ci: [estimate - zc * unpooledSe, estimate + zc * unpooledSe],
  };
}
