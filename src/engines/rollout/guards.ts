// Guards on the candidate that are not margins against a baseline mean: its error rate, and
// the success-rate gap between its groups. Both fail only on evidence that holds under
// continuous monitoring, and both are measured against what the baseline does concurrently.

import { moverInterval, newcombeInterval, oneSidedCriticalZ } from "../stats/index.ts";
import { errorRateTest } from "./error-test.ts";
import { num, pct } from "./format.ts";
import { type MetricContext, metricAlpha } from "./relative.ts";
import type {
  ErrorRateMetric,
  GroupCounts,
  GroupSuccessGapMetric,
  MetricResult,
  VersionWindow,
} from "./types.ts";

export const DEFAULT_MIN_GROUP_SIZE = 30;

/**
 * Error rate at most `max`: fails when the SPRT shows the candidate's rate above `max` and the
 * comparison shows it above the baseline's (see error-test.ts); passes when the estimate is at
 * or below either; inconclusive in between.
 */
export function judgeErrorRate(
  metric: ErrorRateMetric,
  base: VersionWindow,
  cand: VersionWindow,
  ctx: MetricContext,
): MetricResult {
  const immediateRollback = metric.immediateRollback ?? true;
  const min = metric.minSample ?? ctx.minSample;
  const alpha = metricAlpha(metric, ctx);
  if (cand.requests < Math.max(min, 1))
    return {
      metric: "error_rate",
      status: "insufficient_data",
      immediateRollback,
      numbers: { candidateN: cand.requests, minSample: min },
      reason: `error rate: ${num(cand.requests, 0)} candidate requests, below the minimum of ${num(min, 0)}`,
    };
  const t = errorRateTest(cand, base, metric.max, alpha, ctx.concurrent ?? true);
  const numbers = {
    candidate: t.candidateRate,
    baseline: t.baselineRate,
    errors: cand.errors,
    requests: cand.requests,
    max: metric.max,
    alpha,
    logLikelihoodRatioAboveMax: t.limitLogLR,
    logLikelihoodRatioAboveBaseline: t.baselineLogLR,
    logThreshold: -Math.log(alpha),
  };
  const head = () =>
    `error rate ${pct(t.candidateRate!, 2)} (${num(cand.errors, 0)} of ${num(cand.requests, 0)}) vs ${t.baselineRate === null ? "no" : pct(t.baselineRate, 2)} baseline`;
  const limit = pct(metric.max, 2);
  // The sentence is built only when read.
  const out = (status: MetricResult["status"], reason: () => string): MetricResult => ({
    metric: "error_rate",
    status,
    immediateRollback,
    numbers,
    get reason() {
      return `${head()}: ${reason()}`;
    },
  });
  const lr = (x: number | null) => (x === null ? "n/a" : num(Math.exp(Math.min(x, 700)), 1));
  if (t.rejects)
    return out(
      "fail",
      () =>
        `above the ${limit} guard and above the baseline (sequential likelihood ratios ${lr(t.limitLogLR)} and ${lr(t.baselineLogLR)} reach 1/alpha = ${num(1 / alpha, 0)})`,
    );
  if (t.candidateRate! <= metric.max || (t.baselineRate !== null && t.candidateRate! <= t.baselineRate))
    return out("pass", () =>
      t.candidateRate! <= metric.max ? `within the ${limit} guard` : "not above the baseline's",
    );
  return out(
    "inconclusive",
    () =>
      `above the ${limit} guard, not yet shown (likelihood ratios ${lr(t.limitLogLR)} and ${lr(t.baselineLogLR)} of ${num(1 / alpha, 0)} needed)`,
  );
}

interface PairTest {
  best: string;
  worst: string;
  gapPoints: number;
  baselineGapPoints: number | null;
  /** Always-valid lower bounds (points) of the candidate's gap and of its excess over the baseline's. */
  gapLowerPoints: number;
  excessLowerPoints: number | null;
  fails: boolean;
}

interface AttributeGap {
  attribute: string;
  status: MetricResult["status"];
  gapPoints: number | null;
  baselineGapPoints: number | null;
  worst: { group: string; rate: number; n: number } | null;
  best: { group: string; rate: number; n: number } | null;
  insufficientGroups: { group: string; n: number }[];
  failingPair: PairTest | null;
}

const rate = (g: GroupCounts) => g.successes / g.n;

/** The always-valid critical z for a difference with Wald variance `variance`, at alpha. */
function critical(variance: number, limit: number, alpha: number): number {
  return oneSidedCriticalZ(1 / Math.max(variance, 1e-12), Math.max(limit, 0.005), alpha);
}

function smoothedVar(g: GroupCounts): number {
  const p = (g.successes + 0.5) / (g.n + 1);
  return (p * (1 - p)) / g.n;
}

/**
 * One ordered pair (best, worst): fails when the candidate's gap is above the limit AND above
 * the baseline's gap for the same pair by more than the limit, each by an always-valid
 * bound: Newcombe's score interval for the gap, MOVER for the difference of gaps (Wilson
 * intervals at the always-valid critical value, so small groups behave).
 */
function testPair(
  bestKey: string,
  worstKey: string,
  cand: Record<string, GroupCounts>,
  base: Record<string, GroupCounts> | undefined,
  minGroupSize: number,
  limit: number,
  alpha: number,
): PairTest {
  const b = cand[bestKey]!;
  const w = cand[worstKey]!;
  const gap = rate(b) - rate(w);
  const z1 = critical(smoothedVar(b) + smoothedVar(w), limit, alpha);
  const gapLower = newcombeInterval(b, w, z1).lower;
  const bb = base?.[bestKey];
  const bw = base?.[worstKey];
  const comparable = bb && bw && bb.n >= minGroupSize && bw.n >= minGroupSize;
  let excessLower: number | null = null;
  let baselineGap: number | null = null;
  if (comparable) {
    baselineGap = rate(bb) - rate(bw);
    const z2 = critical(smoothedVar(b) + smoothedVar(w) + smoothedVar(bb) + smoothedVar(bw), limit, alpha);
    excessLower = moverInterval(
      [
        { coef: 1, ...b },
        { coef: -1, ...w },
        { coef: -1, ...bb },
        { coef: 1, ...bw },
      ],
      z2,
    ).lower;
  }
  return {
    best: bestKey,
    worst: worstKey,
    gapPoints: gap * 100,
    baselineGapPoints: baselineGap === null ? null : baselineGap * 100,
    gapLowerPoints: gapLower * 100,
    excessLowerPoints: excessLower === null ? null : excessLower * 100,
    fails: gapLower > limit && excessLower !== null && excessLower > limit,
  };
}

function eligible(counts: Record<string, GroupCounts> | undefined, minGroupSize: number) {
  const keys = Object.keys(counts ?? {}).sort();
  const ok = keys.filter((k) => counts![k]!.n >= minGroupSize && counts![k]!.n > 0);
  const small = keys.filter((k) => !ok.includes(k)).map((k) => ({ group: k, n: counts![k]!.n }));
  return { ok, small };
}

function judgeAttribute(
  attribute: string,
  metric: GroupSuccessGapMetric,
  base: VersionWindow,
  cand: VersionWindow,
  alphaPerPair: number,
): AttributeGap {
  const minGroupSize = metric.minGroupSize ?? DEFAULT_MIN_GROUP_SIZE;
  const counts = cand.groups?.[attribute] ?? {};
  const baseCounts = base.groups?.[attribute];
  const { ok, small } = eligible(counts, minGroupSize);
  const out: AttributeGap = {
    attribute,
    status: "insufficient_data",
    gapPoints: null,
    baselineGapPoints: null,
    worst: null,
    best: null,
    insufficientGroups: small,
    failingPair: null,
  };
  if (ok.length < 2) return out;
  const sorted = [...ok].sort((a, b) => rate(counts[b]!) - rate(counts[a]!));
  const bestKey = sorted[0]!;
  const worstKey = sorted.at(-1)!;
  const side = (k: string) => ({ group: k, rate: rate(counts[k]!), n: counts[k]!.n });
  out.best = side(bestKey);
  out.worst = side(worstKey);
  out.gapPoints = (out.best.rate - out.worst.rate) * 100;
  const bb = baseCounts?.[bestKey];
  const bw = baseCounts?.[worstKey];
  out.baselineGapPoints = bb && bw && bb.n > 0 && bw.n > 0 ? (rate(bb) - rate(bw)) * 100 : null;
  const limit = metric.maxGapPoints / 100;
  let open = false;
  for (const i of sorted)
    for (const j of sorted) {
      if (i === j || rate(counts[i]!) - rate(counts[j]!) <= limit) continue;
      const pair = testPair(i, j, counts, baseCounts, minGroupSize, limit, alphaPerPair);
      if (pair.fails) {
        out.failingPair ??= pair;
        continue;
      }
      // Past the limit, unless the baseline shows the same gap (excess within the limit).
      const excess = pair.baselineGapPoints === null ? null : pair.gapPoints - pair.baselineGapPoints;
      if (excess === null || excess > metric.maxGapPoints) open = true;
    }
  out.status = out.failingPair ? "fail" : open ? "inconclusive" : "pass";
  return out;
}

function describe(a: AttributeGap, max: number): string {
  const small =
    a.insufficientGroups.length > 0
      ? `; too small to compare: ${a.insufficientGroups.map((g) => `${g.group} (n = ${g.n})`).join(", ")}`
      : "";
  if (a.gapPoints === null || !a.worst || !a.best)
    return `${a.attribute}: fewer than two groups large enough to compare${small}`;
  const base = a.baselineGapPoints === null ? "" : `, baseline ${num(a.baselineGapPoints)} points`;
  const f = a.failingPair;
  const verdict =
    a.status === "pass"
      ? a.gapPoints <= max
        ? `within ${max} points`
        : `above ${max} points, as the baseline's is`
      : f
        ? `${f.best} over ${f.worst} by at least ${num(f.gapLowerPoints)} points, and at least ${num(f.excessLowerPoints!)} more than the baseline's gap: above ${max} points (always-valid bounds)`
        : `above ${max} points, not yet shown beyond the baseline's gap`;
  return `${a.attribute}: gap ${num(a.gapPoints)} points between ${a.best.group} (${pct(a.best.rate)}, n = ${a.best.n}) and ${a.worst.group} (${pct(a.worst.rate)}, n = ${a.worst.n})${base}, ${verdict}${small}`;
}

/**
 * The candidate's success gap per attribute. Fails when, for some pair of groups, the gap is
 * shown above `maxGapPoints` and shown to exceed the baseline's gap by more than it (alpha
 * split over every ordered pair, Bonferroni); insufficient when no attribute has two groups of
 * `minGroupSize`, or an attribute named in `attributes` lacks them; inconclusive while a gap is
 * past the limit without that evidence; otherwise pass.
 */
export function judgeGroupGap(
  metric: GroupSuccessGapMetric,
  base: VersionWindow,
  cand: VersionWindow,
  ctx: MetricContext,
): MetricResult {
  const immediateRollback = metric.immediateRollback ?? false;
  const alpha = metricAlpha(metric, ctx);
  const minGroupSize = metric.minGroupSize ?? DEFAULT_MIN_GROUP_SIZE;
  const attributes = metric.attributes ?? Object.keys(cand.groups ?? {}).sort();
  const pairs = attributes.reduce((s, a) => {
    const k = eligible(cand.groups?.[a], minGroupSize).ok.length;
    return s + k * (k - 1);
  }, 0);
  const alphaPerPair = alpha / Math.max(1, pairs);
  const results = attributes.map((a) => judgeAttribute(a, metric, base, cand, alphaPerPair));
  const compared = results.filter((r) => r.status !== "insufficient_data");
  const named = metric.attributes !== undefined;
  let status: MetricResult["status"];
  if (results.some((r) => r.status === "fail")) status = "fail";
  else if (compared.length === 0 || (named && compared.length < results.length)) status = "insufficient_data";
  else if (compared.some((r) => r.status === "inconclusive")) status = "inconclusive";
  else status = "pass";
  const worstGap = compared.reduce<number | null>((m, r) => Math.max(m ?? 0, r.gapPoints ?? 0), null);
  const reason = () =>
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
      minGroupSize,
      alpha,
      alphaPerPair,
      attributes: results.map((r) => ({ ...r })),
    },
    get reason() {
      return reason();
    },
  };
}
