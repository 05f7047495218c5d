// Blue-green and shadow analysis: how often the candidate's answers to mirrored traffic agree
// with the answers served.

import { num, pct } from "./format.ts";
import { rateAboveLimit } from "./rate-bound.ts";
import type { MetricContext } from "./relative.ts";
import type { AgreementMetric, MetricResult, VersionWindow } from "./types.ts";

/**
 * Agreement at least `min` (0.9 = 90%) over the compared mirrored calls. Fails when the exact
 * binomial test puts the disagreement rate above 1 − min at one-sided alpha; passes when the
 * observed agreement is at least `min`; inconclusive in between.
 */
export function judgeAgreement(
  metric: AgreementMetric,
  cand: VersionWindow,
  ctx: MetricContext,
): MetricResult {
  const immediateRollback = metric.immediateRollback ?? false;
  const min = metric.minSample ?? ctx.minSample;
  const alpha = metric.alpha ?? ctx.alpha;
  const n = cand.agreementCompared ?? 0;
  const agreed = cand.agreed ?? 0;
  if (n < Math.max(min, 1))
    return {
      metric: "agreement",
      status: "insufficient_data",
      immediateRollback,
      numbers: { compared: n, minSample: min },
      reason: `agreement: ${num(n, 0)} compared answers, below the minimum of ${num(min, 0)}`,
    };
  const rate = agreed / n;
  const test = rateAboveLimit(n - agreed, n, 1 - metric.min, alpha);
  const status = test.exceeds ? "fail" : rate >= metric.min ? "pass" : "inconclusive";
  const numbers = {
    compared: n,
    agreed,
    agreement: rate,
    min: metric.min,
    pDisagreementAbove: test.pAbove,
    alpha,
  };
  const reason =
    status === "fail"
      ? `agreement: ${pct(rate)} of ${num(n, 0)} answers, significantly below ${pct(metric.min)} (p = ${test.pAbove.toPrecision(2)})`
      : status === "pass"
        ? `agreement: ${pct(rate)} of ${num(n, 0)} answers, at least ${pct(metric.min)}`
        : `agreement: ${pct(rate)} of ${num(n, 0)} answers, below ${pct(metric.min)} but not significantly`;
  return { metric: "agreement", status, immediateRollback, numbers, reason };
}
