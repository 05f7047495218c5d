// Metrics judged relative to the baseline: non-inferiority of the success rate and the mean
// score (delta-method relative lift, Welch df), and thresholds on p95 latency and cost.

import { type ArmSummary, frequentistLift, studentTCdf } from "../stats/index.ts";
import { fmtP, num, pct, signedPct, usd } from "./format.ts";
import type {
  CostPerRequestMetric,
  LatencyP95Metric,
  MetricResult,
  ScoreMeanMetric,
  SuccessRateMetric,
  VersionWindow,
} from "./types.ts";

/** What every metric judge is handed besides the two windows. */
export interface MetricContext {
  minSample: number;
  alpha: number;
}

function insufficient(
  metric: MetricResult["metric"],
  immediateRollback: boolean,
  what: string,
  nBase: number,
  nCand: number,
  min: number,
): MetricResult {
  return {
    metric,
    status: "insufficient_data",
    immediateRollback,
    numbers: { baselineN: nBase, candidateN: nCand, minSample: min },
    reason: `${what}: ${num(nCand, 0)} for the candidate and ${num(nBase, 0)} for the baseline, below the minimum of ${num(min, 0)} per arm`,
  };
}

interface Arm {
  summary: ArmSummary;
  n: number;
  mean: number;
  /** Per-unit variance as the stats engine takes it: p(1 - p), or the sample variance. */
  variance: number;
}

/**
 * Non-inferiority with a relative margin: fail when the one-sided test shows the candidate
 * worse than baseline × (1 - margin) at alpha; pass when the one-sided bound clears the margin
 * or the estimate is within it; else inconclusive (the estimate is past the margin, not yet
 * significantly).
 */
function nonInferior(
  metric: SuccessRateMetric | ScoreMeanMetric,
  label: string,
  show: (x: number) => string,
  base: Arm,
  cand: Arm,
  ctx: MetricContext,
): MetricResult {
  const immediateRollback = metric.immediateRollback ?? false;
  const min = metric.minSample ?? ctx.minSample;
  const alpha = metric.alpha ?? ctx.alpha;
  const margin = metric.maxRelativeDrop;
  if (base.n < Math.max(min, 2) || cand.n < Math.max(min, 2))
    return insufficient(metric.kind, immediateRollback, label, base.n, cand.n, Math.max(min, 2));
  const head = `${label} ${show(cand.mean)} vs ${show(base.mean)} baseline`;
  const numbers: MetricResult["numbers"] = {
    baseline: base.mean,
    candidate: cand.mean,
    baselineN: base.n,
    candidateN: cand.n,
    margin: -margin,
    alpha,
  };
  if (base.mean === 0) {
    // A relative margin on a zero baseline is undefined; a candidate at or above zero is not worse.
    const ok = cand.mean >= 0;
    return {
      metric: metric.kind,
      status: ok ? "pass" : "inconclusive",
      immediateRollback,
      numbers,
      reason: `${head}: the baseline is 0, so ${ok ? "the candidate cannot be worse" : "a relative margin is undefined"}`,
    };
  }
  // The delta method's variance of the relative lift; zero when neither arm varies (e.g. every
  // outcome a success) or the candidate never succeeds: then the estimate is all there is.
  const relVariance =
    cand.variance / (cand.n * base.mean ** 2) + (base.variance * cand.mean ** 2) / (base.n * base.mean ** 4);
  if (relVariance === 0) {
    const estimate = cand.mean / base.mean - 1;
    const ok = estimate >= -margin;
    return {
      metric: metric.kind,
      status: ok ? "pass" : "fail",
      immediateRollback,
      numbers: { ...numbers, relativeLift: estimate },
      reason: `${head}: ${signedPct(estimate)} relative with no sampling variance to test, ${ok ? "within" : "worse than"} the ${signedPct(-margin, 0)} margin`,
    };
  }
  // alpha' = 2 alpha: each end of the two-sided interval is a one-sided (1 - alpha) bound.
  const lift = frequentistLift(base.summary, cand.summary, { alpha: 2 * alpha });
  const t = (lift.estimate + margin) / lift.se;
  const pWorse = studentTCdf(t, lift.df);
  const ci = `${pct(1 - 2 * alpha, 0)} CI ${signedPct(lift.ci[0])} to ${signedPct(lift.ci[1])}`;
  const body = `${head}: ${signedPct(lift.estimate)} relative (${ci})`;
  Object.assign(numbers, {
    relativeLift: lift.estimate,
    ci: lift.ci,
    confidence: 1 - 2 * alpha,
    se: lift.se,
    df: lift.df,
    pWorseThanMargin: pWorse,
    pNonInferior: 1 - pWorse,
  });
  const result = (status: MetricResult["status"], reason: string): MetricResult => ({
    metric: metric.kind,
    status,
    immediateRollback,
    numbers,
    reason,
  });
  const marginText = `the ${signedPct(-margin, 0)} margin`;
  if (pWorse < alpha)
    return result("fail", `${body}: worse than ${marginText} (one-sided p = ${fmtP(pWorse)} < ${alpha})`);
  if (lift.ci[0] >= -margin)
    return result("pass", `${body}: non-inferior, the interval clears ${marginText}`);
  if (lift.estimate >= -margin) return result("pass", `${body}: within ${marginText}`);
  return result(
    "inconclusive",
    `${body}: past ${marginText} but not significantly (one-sided p = ${fmtP(pWorse)} ≥ ${alpha}); more data needed`,
  );
}

export function judgeSuccessRate(
  metric: SuccessRateMetric,
  base: VersionWindow,
  cand: VersionWindow,
  ctx: MetricContext,
): MetricResult {
  const arm = (w: VersionWindow): Arm => ({
    summary: { successes: w.successes, n: w.feedbackCount },
    n: w.feedbackCount,
    mean: w.feedbackCount > 0 ? w.successes / w.feedbackCount : 0,
    variance: w.feedbackCount > 0 ? (w.successes / w.feedbackCount) * (1 - w.successes / w.feedbackCount) : 0,
  });
  return nonInferior(metric, "success rate", (x) => pct(x), arm(base), arm(cand), ctx);
}

export function judgeScoreMean(
  metric: ScoreMeanMetric,
  base: VersionWindow,
  cand: VersionWindow,
  ctx: MetricContext,
): MetricResult {
  const arm = (w: VersionWindow): Arm => {
    const n = w.scoreCount ?? 0;
    const sum = w.scoreSum ?? 0;
    const sumSquares = w.scoreSumSquares ?? 0;
    const mean = n > 0 ? sum / n : 0;
    const variance = n > 1 ? Math.max(0, (sumSquares - sum * mean) / (n - 1)) : 0;
    return { summary: { sum, sumSquares, n }, n, mean, variance };
  };
  return nonInferior(metric, "mean score", (x) => num(x, 3), arm(base), arm(cand), ctx);
}

/** Fails when the candidate's value is above `max` or above baseline × (1 + maxRelativeIncrease). */
function threshold(
  metric: LatencyP95Metric | CostPerRequestMetric,
  label: string,
  show: (x: number) => string,
  baseValue: number | null,
  candValue: number | null,
  base: VersionWindow,
  cand: VersionWindow,
  ctx: MetricContext,
): MetricResult {
  const immediateRollback = metric.immediateRollback ?? false;
  const min = metric.minSample ?? ctx.minSample;
  const relative = metric.maxRelativeIncrease !== undefined;
  if (cand.requests < min || (relative && base.requests < min) || candValue === null)
    return insufficient(
      metric.kind,
      immediateRollback,
      `${label} (requests)`,
      base.requests,
      cand.requests,
      min,
    );
  const limits: { limit: number; text: string }[] = [];
  if (metric.max !== undefined) limits.push({ limit: metric.max, text: `the ${show(metric.max)} maximum` });
  if (relative && baseValue !== null && baseValue > 0) {
    const inc = metric.maxRelativeIncrease!;
    limits.push({ limit: baseValue * (1 + inc), text: `${signedPct(inc, 0)} over the baseline` });
  }
  const breached = limits.filter((l) => candValue > l.limit);
  const change = baseValue !== null && baseValue > 0 ? candValue / baseValue - 1 : null;
  const head = `${label} ${show(candValue)} vs ${baseValue === null ? "no" : show(baseValue)} baseline${change === null ? "" : ` (${signedPct(change)})`}`;
  const numbers = {
    baseline: baseValue,
    candidate: candValue,
    relativeChange: change,
    limits: limits.map((l) => l.limit),
  };
  if (breached.length > 0)
    return {
      metric: metric.kind,
      status: "fail",
      immediateRollback,
      numbers,
      reason: `${head}: above ${breached.map((l) => `${l.text} (${show(l.limit)})`).join(" and ")}`,
    };
  const within = limits.length > 0 ? `: within ${limits.map((l) => l.text).join(" and ")}` : "";
  return { metric: metric.kind, status: "pass", immediateRollback, numbers, reason: `${head}${within}` };
}

export function judgeLatency(
  metric: LatencyP95Metric,
  base: VersionWindow,
  cand: VersionWindow,
  ctx: MetricContext,
): MetricResult {
  const show = (x: number) => `${num(x, 0)} ms`;
  return threshold(metric, "p95 latency", show, base.latencyP95Ms, cand.latencyP95Ms, base, cand, ctx);
}

export function judgeCost(
  metric: CostPerRequestMetric,
  base: VersionWindow,
  cand: VersionWindow,
  ctx: MetricContext,
): MetricResult {
  const per = (w: VersionWindow) => (w.requests > 0 ? w.costUsd / w.requests : null);
  return threshold(metric, "cost per request", usd, per(base), per(cand), base, cand, ctx);
}
