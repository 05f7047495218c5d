// Absolute guards on the candidate: its error rate, and the success-rate gap between its groups.

import { successByGroup } from "../fairness/index.ts";
import { normalSf } from "../stats/index.ts";
import { fmtP, num, pct } from "./format.ts";
import { rateAboveLimit } from "./rate-bound.ts";
import type { MetricContext } from "./relative.ts";
import type {
  ErrorRateMetric,
  GroupCounts,
  GroupSuccessGapMetric,
  MetricResult,
  VersionWindow,
} from "./types.ts";

export const DEFAULT_MIN_GROUP_SIZE = 30;

/**
 * Error rate at most `max`. With `bound: "one_sided"` (default) the guard fails only when the
 * exact binomial test puts the rate above `max` at alpha, passes when the estimate is at or
 * below `max`, and is inconclusive in between; with `"point"` the estimate decides alone.
 */
export function judgeErrorRate(
  metric: ErrorRateMetric,
  base: VersionWindow,
  cand: VersionWindow,
  ctx: MetricContext,
): MetricResult {
  const immediateRollback = metric.immediateRollback ?? true;
  const min = metric.minSample ?? ctx.minSample;
  const alpha = metric.alpha ?? ctx.alpha;
  const bound = metric.bound ?? "one_sided";
  if (cand.requests < Math.max(min, 1))
    return {
      metric: "error_rate",
      status: "insufficient_data",
      immediateRollback,
      numbers: { candidateN: cand.requests, minSample: min },
      reason: `error rate: ${num(cand.requests, 0)} candidate requests, below the minimum of ${num(min, 0)}`,
    };
  const test = rateAboveLimit(cand.errors, cand.requests, metric.max, alpha);
  const baseRate = base.requests > 0 ? base.errors / base.requests : null;
  const numbers = {
    candidate: test.rate,
    baseline: baseRate,
    errors: cand.errors,
    requests: cand.requests,
    max: metric.max,
    bound,
    lowerBound: test.lowerBound,
    pAbove: test.pAbove,
    alpha,
  };
  const head = `error rate ${pct(test.rate, 2)} (${num(cand.errors, 0)} of ${num(cand.requests, 0)}) vs ${baseRate === null ? "no" : pct(baseRate, 2)} baseline`;
  const out = (status: MetricResult["status"], reason: string): MetricResult => ({
    metric: "error_rate",
    status,
    immediateRollback,
    numbers,
    reason: `${head}: ${reason}`,
  });
  const limit = pct(metric.max, 2);
  if (bound === "point")
    return test.rate > metric.max
      ? out("fail", `above the ${limit} guard`)
      : out("pass", `within the ${limit} guard`);
  if (test.exceeds)
    return out(
      "fail",
      `above the ${limit} guard (exact one-sided p = ${fmtP(test.pAbove)} < ${alpha}, lower bound ${pct(test.lowerBound, 2)})`,
    );
  if (test.rate <= metric.max) return out("pass", `within the ${limit} guard`);
  return out("inconclusive", `above the ${limit} guard but not significantly (p = ${fmtP(test.pAbove)})`);
}

interface AttributeGap {
  attribute: string;
  status: MetricResult["status"];
  gapPoints: number | null;
  baselineGapPoints: number | null;
  worst: { group: string; rate: number; n: number } | null;
  best: { group: string; rate: number; n: number } | null;
  insufficientGroups: { group: string; n: number }[];
  pAdjusted: number | null;
}

/** successByGroup over one attribute's counts, expanded to one success flag per feedback. */
function groupReport(counts: Record<string, GroupCounts> | undefined, minGroupSize: number) {
  const success: number[] = [];
  const features: string[] = [];
  for (const [key, g] of Object.entries(counts ?? {})) {
    for (let i = 0; i < g.n; i++) {
      success.push(i < g.successes ? 1 : 0);
      features.push(key);
    }
  }
  if (success.length === 0) return null;
  return successByGroup(success, { sensitiveFeatures: features, minGroupSize });
}

function judgeAttribute(
  attribute: string,
  metric: GroupSuccessGapMetric,
  base: VersionWindow,
  cand: VersionWindow,
  alpha: number,
): AttributeGap {
  const minGroupSize = metric.minGroupSize ?? DEFAULT_MIN_GROUP_SIZE;
  const report = groupReport(cand.groups?.[attribute], minGroupSize);
  const baseline = groupReport(base.groups?.[attribute], minGroupSize);
  const out: AttributeGap = {
    attribute,
    status: "insufficient_data",
    gapPoints: report?.maxGapPoints ?? null,
    baselineGapPoints: baseline?.maxGapPoints ?? null,
    worst: null,
    best: null,
    insufficientGroups: (report?.excluded ?? []).map((g) => ({ group: g.key, n: g.n })),
    pAdjusted: null,
  };
  if (!report || report.maxGapPoints === null) return out;
  const side = (key: string) => {
    const g = report.groups.find((x) => x.key === key)!;
    return { group: key, rate: g.successRate!, n: g.n };
  };
  const worst = side(report.disparity.min!.group);
  const best = side(report.disparity.max!.group);
  Object.assign(out, { worst, best });
  if (report.maxGapPoints <= metric.maxGapPoints) return { ...out, status: "pass" };
  // Is best - worst above the allowed gap? One-sided z, Bonferroni over every pair of compared
  // groups, since the two extremes were picked after looking.
  const k = report.disparity.compared.length;
  const pairs = (k * (k - 1)) / 2;
  const se = Math.sqrt((best.rate * (1 - best.rate)) / best.n + (worst.rate * (1 - worst.rate)) / worst.n);
  const excess = best.rate - worst.rate - metric.maxGapPoints / 100;
  const p = se === 0 ? 0 : normalSf(excess / se);
  out.pAdjusted = Math.min(1, pairs * p);
  return { ...out, status: out.pAdjusted < alpha ? "fail" : "inconclusive" };
}

function describe(a: AttributeGap, max: number): string {
  const small =
    a.insufficientGroups.length > 0
      ? `; too small to compare: ${a.insufficientGroups.map((g) => `${g.group} (n = ${g.n})`).join(", ")}`
      : "";
  if (a.gapPoints === null || !a.worst || !a.best)
    return `${a.attribute}: fewer than two groups large enough to compare${small}`;
  const base = a.baselineGapPoints === null ? "" : `, baseline ${num(a.baselineGapPoints)} points`;
  const verdict =
    a.status === "pass"
      ? `within ${max} points`
      : a.status === "fail"
        ? `above ${max} points (adjusted p = ${fmtP(a.pAdjusted!)})`
        : `above ${max} points but not significantly (adjusted p = ${fmtP(a.pAdjusted!)})`;
  return `${a.attribute}: gap ${num(a.gapPoints)} points between ${a.best.group} (${pct(a.best.rate)}, n = ${a.best.n}) and ${a.worst.group} (${pct(a.worst.rate)}, n = ${a.worst.n})${base}, ${verdict}${small}`;
}

/**
 * The candidate's success gap per attribute. Fails when any attribute's gap is significantly
 * above `maxGapPoints`; insufficient when no attribute has two groups of `minGroupSize`, or an
 * attribute named in `attributes` lacks them; otherwise inconclusive while a gap is above the
 * limit without significance.
 */
export function judgeGroupGap(
  metric: GroupSuccessGapMetric,
  base: VersionWindow,
  cand: VersionWindow,
  ctx: MetricContext,
): MetricResult {
  const immediateRollback = metric.immediateRollback ?? false;
  const alpha = metric.alpha ?? ctx.alpha;
  const attributes = metric.attributes ?? Object.keys(cand.groups ?? {}).sort();
  const results = attributes.map((a) => judgeAttribute(a, metric, base, cand, alpha));
  const compared = results.filter((r) => r.status !== "insufficient_data");
  const named = metric.attributes !== undefined;
  let status: MetricResult["status"];
  if (results.some((r) => r.status === "fail")) status = "fail";
  else if (compared.length === 0 || (named && compared.length < results.length)) status = "insufficient_data";
  else if (compared.some((r) => r.status === "inconclusive")) status = "inconclusive";
  else status = "pass";
  const worstGap = compared.reduce<number | null>((m, r) => Math.max(m ?? 0, r.gapPoints ?? 0), null);
  const reason =
    results.length === 0
      ? "group success gap: the candidate's feedback carries no groups"
      : `group success gap: ${results.map((r) => describe(r, metric.maxGapPoints)).join("; ")}`;
  return {
    metric: "group_success_gap",
    status,
    immediateRollback,
    numbers: {
      maxGapPoints: metric.maxGapPoints,
      worstGapPoints: worstGap,
      minGroupSize: metric.minGroupSize ?? DEFAULT_MIN_GROUP_SIZE,
      alpha,
      attributes: results.map((r) => ({ ...r })),
    },
    reason,
  };
}
