// The error-rate test the fast path runs every second and the judge at every analysis: is the
// candidate's error rate above its limit AND above the baseline's? Both must be shown, each by
// a test valid under continuous monitoring, so a candidate is not blamed for errors the
// baseline has too (an intersection-union test: its error rate is at most alpha).

import { bernoulliSprt, normalMixtureOneSided, RATE_RATIOS, rateAlternatives } from "../stats/index.ts";
import type { ErrorCounts } from "./types.ts";

export interface ErrorTest {
  candidateRate: number | null;
  baselineRate: number | null;
  limit: number;
  alpha: number;
  /** ln likelihood ratio of "above the limit" (SPRT mixture on the candidate's counts). */
  limitLogLR: number;
  limitRejects: boolean;
  /** ln likelihood ratio of "above the baseline"; null when the baseline gives nothing to compare. */
  baselineLogLR: number | null;
  baselineRejects: boolean;
  /** Both shown: roll back. */
  rejects: boolean;
}

/** The rate-ratio alternatives (1.5x, 2x, 3x, 5x) turned into shares of the errors that fall on the candidate. */
function shareAlternatives(share: number) {
  const out: { p1: number; weight: number }[] = [];
  for (const { ratio, weight } of RATE_RATIOS)
    out.push({ p1: (ratio * share) / (ratio * share + 1 - share), weight });
  return out;
}

/**
 * With a concurrent baseline, "above the baseline" is Wald's SPRT on which arm each error
 * fell on: with equal rates an error is the candidate's with the candidate's share of the
 * requests. Against a reference window (a 100% step) it is the one-sided normal mixture on
 * the difference of the two rates.
 */
export function errorRateTest(
  cand: ErrorCounts,
  base: ErrorCounts | undefined,
  limit: number,
  alpha: number,
  concurrent = true,
): ErrorTest {
  const candidateRate = cand.requests > 0 ? cand.errors / cand.requests : null;
  const baselineRate = base && base.requests > 0 ? base.errors / base.requests : null;
  const p0 = Math.max(limit, 1e-6);
  const limitLogLR =
    cand.requests > 0
      ? bernoulliSprt(cand.errors, cand.requests, p0, rateAlternatives(p0), alpha).logLikelihoodRatio
      : 0;
  const limitRejects = limitLogLR >= -Math.log(alpha);
  let baselineLogLR: number | null = null;
  let baselineRejects = true;
  if (base && base.requests > 0 && cand.requests > 0) {
    if (concurrent) {
      const share = cand.requests / (cand.requests + base.requests);
      const events = cand.errors + base.errors;
      baselineLogLR =
        events === 0
          ? 0
          : bernoulliSprt(cand.errors, events, share, shareAlternatives(share), alpha).logLikelihoodRatio;
      baselineRejects = baselineLogLR >= -Math.log(alpha);
    } else {
      // Half a pseudo-event on each side keeps the variance above zero with no errors at all.
      const pc = (cand.errors + 0.5) / (cand.requests + 1);
      const pb = (base.errors + 0.5) / (base.requests + 1);
      const se = Math.sqrt((pc * (1 - pc)) / cand.requests + (pb * (1 - pb)) / base.requests);
      const t = normalMixtureOneSided(candidateRate! - baselineRate!, se, 0, {
        tau: Math.max(limit, 0.001),
        alpha,
        side: "greater",
      });
      baselineLogLR = t.logLikelihoodRatio;
      baselineRejects = t.rejects;
    }
  }
  return {
    candidateRate,
    baselineRate,
    limit,
    alpha,
    limitLogLR,
    limitRejects,
    baselineLogLR,
    baselineRejects,
    rejects: limitRejects && baselineRejects,
  };
}
