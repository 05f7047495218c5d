// Metrics judged against the baseline with a margin: success rate and mean score must not be
// worse by more than the margin (non-inferiority), cost per request must not be higher. Each
// fails only when the one-sided always-valid test (normal mixture) shows the breach, so that
// looking every minute over a growing window keeps the false-alarm rate within alpha.

import { normalMixtureOneSided, type OneSidedMixtureResult } from "../stats/index.ts";
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
  /** The plan's alpha over the whole rollout. */
  alpha: number;
  /** The share of it this step spends (1 when not split). */
  share?: number;
  /** Whether the baseline served alongside the candidate (false at a 100% step). */
  concurrent?: boolean;
}

/** The alpha a metric's test uses at this step. */
export function metricAlpha(metric: { alpha?: number }, ctx: MetricContext): number {
  return (metric.alpha ?? ctx.alpha) * (ctx.share ?? 1);
}

/** Sentence parts, built only when the reason is read. */
export type Parts = (() => string)[];

/**
 * A test-backed metric's result: fail when any limit failed, inconclusive when any is past
 * its limit but not shown, else pass; the reason names the deciding parts after `head`.
 */
export function verdict(
  metric: MetricResult["metric"],
  immediateRollback: boolean,
  numbers: MetricResult["numbers"],
  head: () => string,
  parts: { fails: Parts; open: Parts; within: Parts },
  none = "",
): MetricResult {
  const { fails, open, within } = parts;
  const status = fails.length ? "fail" : open.length ? "inconclusive" : "pass";
  const shown = fails.length ? fails : open.length ? open : within;
  return {
    metric,
    status,
    immediateRollback,
    numbers,
    get reason() {
      return `${head()}: ${shown.map((f) => f()).join("; ") || none}`;
    },
  };
}

/**
 * The common start of a latency or cost judgement: its settings, or the insufficient-data
 * result when the candidate (or, for a relative limit, the baseline) has too few requests.
 */
export function limitSample(
  metric: LatencyP95Metric | CostPerRequestMetric,
  label: string,
  base: VersionWindow,
  cand: VersionWindow,
  ctx: MetricContext,
): { immediateRollback: boolean; relative: boolean; result: MetricResult | null } {
  const immediateRollback = metric.immediateRollback ?? false;
  const min = metric.minSample ?? ctx.minSample;
  const relative = metric.maxRelativeIncrease !== undefined;
  const short = cand.requests < min || (relative && base.requests < min);
  const result = short
    ? insufficient(metric.kind, immediateRollback, `${label} (requests)`, base.requests, cand.requests, min)
    : null;
  return { immediateRollback, relative, result };
}

export function insufficient(
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
  n: number;
  mean: number;
  /** Per-unit variance used for the standard error (kept above zero). */
  variance: number;
}

/** A rate's arm; the variance uses half a pseudo-count each way, so 100% or 0% still varies. */
function rateArm(successes: number, n: number): Arm {
  const smoothed = (successes + 0.5) / (n + 1);
  return { n, mean: n > 0 ? successes / n : 0, variance: smoothed * (1 - smoothed) };
}

function meanArm(n: number, sum: number, sumSquares: number, floor: number): Arm {
  const mean = n > 0 ? sum / n : 0;
  const variance = n > 1 ? Math.max(0, (sumSquares - sum * mean) / (n - 1)) : 0;
  return { n, mean, variance: Math.max(variance, floor) };
}

/** The margin in the metric's own units, and how to say it. */
interface Margin {
  /** Relative (fraction of the baseline) or absolute (metric units). */
  relative: boolean;
  size: number;
  text: string;
}

/**
 * Tests cand - k base < 0 (k = 1 - relative margin; absolute: cand - base + margin < 0), the
 * linear form of "worse than the baseline by more than the margin", which needs no ratio.
 */
function inferiority(
  base: Arm,
  cand: Arm,
  m: Margin,
  alpha: number,
): { test: OneSidedMixtureResult; d: number } {
  const k = m.relative ? 1 - m.size : 1;
  const shift = m.relative ? 0 : m.size;
  const d = cand.mean - k * base.mean + shift;
  const se = Math.sqrt(cand.variance / cand.n + (k * k * base.variance) / base.n);
  // The mixture is centred on effects the size of the margin itself.
  const tau = Math.max(m.relative ? m.size * Math.abs(base.mean) : m.size, 1e-9);
  return { test: normalMixtureOneSided(d, Math.max(se, 1e-12), 0, { tau, alpha, side: "less" }), d };
}

function nonInferior(
  metric: SuccessRateMetric | ScoreMeanMetric,
  label: string,
  show: (x: number) => string,
  margin: Margin | null,
  floor: number | null,
  base: Arm,
  cand: Arm,
  ctx: MetricContext,
): MetricResult {
  const immediateRollback = metric.immediateRollback ?? false;
  const min = metric.minSample ?? ctx.minSample;
  if (base.n < min || cand.n < min)
    return insufficient(metric.kind, immediateRollback, label, base.n, cand.n, min);
  const alpha = metricAlpha(metric, ctx);
  const relativeLift = base.mean !== 0 ? cand.mean / base.mean - 1 : null;
  // Sentences are built only when read (the judge runs every minute, the benchmark millions of times).
  const head = () =>
    `${label} ${show(cand.mean)} vs ${show(base.mean)} baseline${relativeLift === null ? "" : ` (${signedPct(relativeLift)})`}`;
  const numbers: MetricResult["numbers"] = {
    baseline: base.mean,
    candidate: cand.mean,
    baselineN: base.n,
    candidateN: cand.n,
    relativeLift,
    difference: cand.mean - base.mean,
    alpha,
  };
  const fails: Parts = [];
  const within: Parts = [];
  const open: Parts = [];
  if (margin) {
    const { test, d } = inferiority(base, cand, margin, alpha);
    // The always-valid bound on cand - base, for the reader: d shifted back by the margin.
    const back = margin.relative ? -margin.size * base.mean : margin.size;
    // For the charts: the margin and an always-valid interval on the relative scale.
    // bound = D + z* se (the always-valid upper bound of D), so the half-width is bound - D.
    const half = base.mean !== 0 ? (test.bound - d) / Math.abs(base.mean) : null;
    Object.assign(numbers, {
      margin: margin.relative ? margin.size : base.mean !== 0 ? margin.size / Math.abs(base.mean) : null,
      marginSize: margin.size,
      marginKind: margin.relative ? "relative" : "points",
      marginStatistic: d,
      upperBoundOfDifference: test.bound - back,
      ci: relativeLift !== null && half !== null ? [relativeLift - half, relativeLift + half] : null,
      confidence: 1 - alpha,
      z: -test.z,
      criticalZ: test.criticalZ,
      pWorseThanMargin: test.pValue,
    });
    const detail = () =>
      `always-valid upper bound ${show(base.mean + test.bound - back)}, z = ${num(-test.z, 2)} vs ${num(-test.criticalZ, 2)}`;
    if (test.rejects) fails.push(() => `worse than ${margin.text} (${detail()})`);
    else if (d >= 0) within.push(() => `within ${margin.text}`);
    else open.push(() => `past ${margin.text} but not yet shown (${detail()}, p = ${fmtP(test.pValue)})`);
  }
  if (floor !== null) {
    // Below the floor AND below the baseline: a floor the baseline misses too is not the candidate's fault.
    const below = normalMixtureOneSided(cand.mean - floor, Math.sqrt(cand.variance / cand.n), 0, {
      tau: Math.max(0.05 * Math.abs(floor), 1e-9),
      alpha,
      side: "less",
    });
    const worse = normalMixtureOneSided(
      cand.mean - base.mean,
      Math.sqrt(cand.variance / cand.n + base.variance / base.n),
      0,
      { tau: Math.max(0.05 * Math.abs(floor), 1e-9), alpha, side: "less" },
    );
    Object.assign(numbers, { floor, pBelowFloor: below.pValue, pBelowBaseline: worse.pValue });
    if (below.rejects && worse.rejects)
      fails.push(() => `below the ${show(floor)} floor and below the baseline`);
    else if (cand.mean >= floor || cand.mean >= base.mean)
      within.push(() => `at or above the ${show(floor)} floor`);
    else
      open.push(
        () =>
          `below the ${show(floor)} floor but not yet shown (p = ${fmtP(Math.max(below.pValue, worse.pValue))})`,
      );
  }
  return verdict(metric.kind, immediateRollback, numbers, head, { fails, open, within });
}

function marginOf(
  relative: number | undefined,
  absolute: number | undefined,
  scale: number,
  unit: string,
): Margin | null {
  if (relative !== undefined)
    return {
      relative: true,
      size: relative,
      get text() {
        return `the ${signedPct(-relative, 0)} relative margin`;
      },
    };
  if (absolute !== undefined)
    return {
      relative: false,
      size: absolute / scale,
      get text() {
        return `the -${num(absolute, 2)} ${unit} margin`;
      },
    };
  return null;
}

export function judgeSuccessRate(
  metric: SuccessRateMetric,
  base: VersionWindow,
  cand: VersionWindow,
  ctx: MetricContext,
): MetricResult {
  const margin = marginOf(metric.maxRelativeDrop, metric.maxDropPoints, 100, "point");
  return nonInferior(
    metric,
    "success rate",
    (x) => pct(x),
    margin,
    metric.min ?? null,
    rateArm(base.successes, base.feedbackCount),
    rateArm(cand.successes, cand.feedbackCount),
    ctx,
  );
}

export function judgeScoreMean(
  metric: ScoreMeanMetric,
  base: VersionWindow,
  cand: VersionWindow,
  ctx: MetricContext,
): MetricResult {
  const arm = (w: VersionWindow) =>
    meanArm(w.scoreCount ?? 0, w.scoreSum ?? 0, w.scoreSumSquares ?? 0, 1e-12);
  const b = arm(base);
  const c = arm(cand);
  // Neither arm varies: give both a variance of 1% of the baseline's scale, so the test has a floor.
  const floor = (0.01 * Math.max(Math.abs(b.mean), 1e-6)) ** 2;
  if (b.variance <= 1e-12 && c.variance <= 1e-12) {
    b.variance = floor;
    c.variance = floor;
  }
  const margin = marginOf(metric.maxRelativeDrop, metric.maxDrop, 1, "score");
  return nonInferior(metric, "mean score", (x) => num(x, 3), margin, null, b, c, ctx);
}

/**
 * Cost per request at most `max` and/or at most (1 + maxRelativeIncrease) × the baseline's:
 * fails when the one-sided always-valid test shows the mean above a limit.
 */
export function judgeCost(
  metric: CostPerRequestMetric,
  base: VersionWindow,
  cand: VersionWindow,
  ctx: MetricContext,
): MetricResult {
  const { immediateRollback, relative, result } = limitSample(metric, "cost per request", base, cand, ctx);
  if (result) return result;
  const alpha = metricAlpha(metric, ctx) / (metric.max !== undefined && relative ? 2 : 1);
  const arm = (w: VersionWindow) => {
    const mean = w.costUsd / w.requests;
    // Without the squares, assume the cost varies by its own size per request (a wide, cautious guess).
    const sq = w.costSumSquares ?? 2 * w.costUsd * mean;
    return meanArm(w.requests, w.costUsd, sq, (1e-3 * Math.max(mean, 1e-9)) ** 2);
  };
  const c = arm(cand);
  const b = base.requests > 0 ? arm(base) : null;
  const change = b && b.mean > 0 ? c.mean / b.mean - 1 : null;
  const head = () =>
    `cost per request ${usd(c.mean)} vs ${b ? usd(b.mean) : "no"} baseline${change === null ? "" : ` (${signedPct(change)})`}`;
  // The limits in the order the charts read them: the absolute maximum, then the relative one.
  const limits = [
    ...(metric.max !== undefined ? [metric.max] : []),
    ...(relative && b ? [(1 + metric.maxRelativeIncrease!) * b.mean] : []),
  ];
  const numbers: MetricResult["numbers"] = {
    baseline: b?.mean ?? null,
    candidate: c.mean,
    relativeChange: change,
    limits,
    alpha,
  };
  const fails: Parts = [];
  const open: Parts = [];
  const within: Parts = [];
  const check = (name: string, d: number, se: number, tau: number) => {
    const t = normalMixtureOneSided(d, Math.max(se, 1e-15), 0, { tau, alpha, side: "greater" });
    numbers[`p${name}`] = t.pValue;
    return t;
  };
  if (metric.max !== undefined) {
    const max = metric.max;
    const t = check(
      "AboveMax",
      c.mean - metric.max,
      Math.sqrt(c.variance / c.n),
      Math.max(0.1 * metric.max, 1e-12),
    );
    if (t.rejects) fails.push(() => `above the ${usd(max)} maximum (p = ${fmtP(t.pValue)})`);
    else if (c.mean <= max) within.push(() => `within the ${usd(max)} maximum`);
    else open.push(() => `above the ${usd(max)} maximum but not yet shown (p = ${fmtP(t.pValue)})`);
  }
  if (relative && b) {
    const k = 1 + metric.maxRelativeIncrease!;
    const t = check(
      "AboveRelative",
      c.mean - k * b.mean,
      Math.sqrt(c.variance / c.n + (k * k * b.variance) / b.n),
      Math.max(metric.maxRelativeIncrease! * b.mean, 1e-12),
    );
    const text = `${signedPct(metric.maxRelativeIncrease!, 0)} over the baseline`;
    if (t.rejects) fails.push(() => `above ${text} (p = ${fmtP(t.pValue)})`);
    else if (c.mean <= k * b.mean) within.push(() => `within ${text}`);
    else open.push(() => `above ${text} but not yet shown (p = ${fmtP(t.pValue)})`);
  }
  return verdict(metric.kind, immediateRollback, numbers, head, { fails, open, within });
}
