// Blue-green and shadow analysis: how often the candidate's answers to mirrored traffic agree
// with the answers served.

import { bernoulliSprt, rateAlternatives } from "../stats/index.ts";
import { fmtP, num, pct } from "./format.ts";
import { type MetricContext, metricAlpha } from "./relative.ts";
import type { AgreementMetric, MetricResult, VersionWindow } from "./types.ts";

/**
 * Agreement at least `min` (0.9 = 90%) over the compared mirrored calls. Fails when Wald's
 * SPRT (valid at every look) shows the disagreement rate above 1 − min; passes when the
 * observed agreement is at least `min`; inconclusive in between.
 */
export function judgeAgreement(
  metric: AgreementMetric,
  cand: VersionWindow,
  ctx: MetricContext,
): MetricResult {
  const immediateRollback = metric.immediateRollback ?? false;
  const min = metric.minSample ?? ctx.minSample;
  const alpha = metricAlpha(metric, ctx);
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
  const p0 = Math.max(1 - metric.min, 1e-6);
  const test = bernoulliSprt(n - agreed, n, p0, rateAlternatives(p0), alpha);
  const status = test.rejects ? "fail" : rate >= metric.min ? "pass" : "inconclusive";
  const numbers = {
    compared: n,
    agreed,
    agreement: rate,
    min: metric.min,
    pDisagreementAbove: test.pValue,
    alpha,
  };
  const reason =
    status === "fail"
      ? `agreement: ${pct(rate)} of ${num(n, 0)} answers, significantly below ${pct(metric.min)} (sequential p = ${fmtP(test.pValue)})`
      : status === "pass"
        ? `agreement: ${pct(rate)} of ${num(n, 0)} answers, at least ${pct(metric.min)}`
        : `agreement: ${pct(rate)} of ${num(n, 0)} answers, below ${pct(metric.min)} but not significantly`;
  return { metric: "agreement", status, immediateRollback, numbers, reason };
}
