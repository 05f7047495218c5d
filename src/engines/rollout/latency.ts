// p95 latency judged as a test, not a raw threshold: "the candidate's p95 is at most L" is the
// same as "at most 5% of its requests are slower than L", and that share is a rate a
// sequential test can watch. L is an absolute `max`, or the baseline's p95 × (1 + margin).
// The windows carry log-spaced latency histograms, so both come from counts.

import { bernoulliSprt, rateAlternatives } from "../stats/index.ts";
import { fmtP, num, pct, signedPct } from "./format.ts";
import { limitSample, type MetricContext, metricAlpha, type Parts, verdict } from "./relative.ts";
import type { LatencyP95Metric, MetricResult, VersionWindow } from "./types.ts";

/** Histogram resolution: 16 buckets per doubling, each 4.4% wide. */
export const LATENCY_BUCKETS_PER_DOUBLING = 16;
/** The last bucket (about 2^25 ms, 9 hours) takes everything slower. */
export const LATENCY_MAX_BUCKET = 400;

/**
 * The histogram bucket of a latency in ms. The 1e-9 keeps a latency exactly on an edge (128 ms)
 * in the same bucket here and in SQL, whose ln(x) / ln(2) may land a hair below the integer.
 */
export function latencyBucket(ms: number): number {
  if (!(ms >= 1)) return 0;
  return Math.min(LATENCY_MAX_BUCKET, Math.floor(LATENCY_BUCKETS_PER_DOUBLING * Math.log2(ms) + 1e-9));
}

/** EDGES[b] is bucket b's lower edge (0 for bucket 0) and bucket b - 1's upper edge. */
const EDGES = Float64Array.from({ length: LATENCY_MAX_BUCKET + 2 }, (_, b) =>
  b === 0 ? 0 : 2 ** (b / LATENCY_BUCKETS_PER_DOUBLING),
);
const lowerEdge = (b: number) => EDGES[Math.min(b, LATENCY_MAX_BUCKET + 1)]!;
const upperEdge = (b: number) => EDGES[Math.min(b + 1, LATENCY_MAX_BUCKET + 1)]!;

function total(h: readonly number[]): number {
  let s = 0;
  for (const x of h) s += x ?? 0;
  return s;
}

/** The q-quantile of a histogram, interpolated within its bucket on the log scale; null when empty. */
export function histogramQuantile(h: readonly number[], q: number, n = total(h)): number | null {
  if (n === 0) return null;
  const target = q * n;
  let cum = 0;
  for (let b = 0; b < h.length; b++) {
    const c = h[b] ?? 0;
    if (c > 0 && cum + c >= target) {
      const frac = Math.min(1, Math.max(0, (target - cum) / c));
      const lo = lowerEdge(b);
      const hi = upperEdge(b);
      return b === 0 ? frac * hi : lo * (hi / lo) ** frac;
    }
    cum += c;
  }
  return upperEdge(h.length - 1);
}

/** Requests slower than `t` ms: whole buckets above it, and the part of the bucket it falls in. */
export function histogramCountAbove(h: readonly number[], t: number): number {
  let above = 0;
  for (let b = 0; b < h.length; b++) {
    const c = h[b] ?? 0;
    if (c === 0) continue;
    const lo = lowerEdge(b);
    const hi = upperEdge(b);
    if (lo >= t) above += c;
    else if (hi > t) above += c * (b === 0 ? (hi - t) / hi : Math.log(hi / t) / Math.log(hi / lo));
  }
  return above;
}

const P95_TAIL = 0.05;

export function judgeLatency(
  metric: LatencyP95Metric,
  base: VersionWindow,
  cand: VersionWindow,
  ctx: MetricContext,
): MetricResult {
  const { immediateRollback, relative, result } = limitSample(metric, "p95 latency", base, cand, ctx);
  if (result) return result;
  const ch = cand.latencyHistogram;
  const bh = base.latencyHistogram;
  if (!ch || (relative && !bh))
    return {
      metric: metric.kind,
      status: "insufficient_data",
      immediateRollback,
      numbers: { candidateN: cand.requests },
      reason: "p95 latency: the window carries no latency histogram to test",
    };
  const alpha = metricAlpha(metric, ctx) / (metric.max !== undefined && relative ? 2 : 1);
  const n = total(ch);
  const candP95 = histogramQuantile(ch, 0.95, n) ?? cand.latencyP95Ms;
  const bn = bh ? total(bh) : 0;
  const baseP95 = bh ? (histogramQuantile(bh, 0.95, bn) ?? base.latencyP95Ms) : base.latencyP95Ms;
  // The relative limit is set from an upper confidence limit of the baseline's p95 (its
  // quantile at 0.95 + 1.96 sd of a binomial share), so a small, noisy baseline sample does not
  // draw the limit low and blame the candidate for it; with a large baseline it is the p95.
  const upperQ = bn > 0 ? Math.min(0.999, 0.95 + 1.96 * Math.sqrt((0.95 * 0.05) / bn)) : 0.95;
  const baseRef = bh ? (histogramQuantile(bh, upperQ, bn) ?? baseP95) : baseP95;
  const show = (x: number | null) => (x === null ? "no" : `${num(x, 0)} ms`);
  const change = candP95 !== null && baseP95 ? candP95 / baseP95 - 1 : null;
  const head = () =>
    `p95 latency ${show(candP95)} vs ${show(baseP95)} baseline${change === null ? "" : ` (${signedPct(change)})`}`;
  const limits: { limit: number; text: string }[] = [];
  if (metric.max !== undefined) limits.push({ limit: metric.max, text: `the ${show(metric.max)} maximum` });
  if (relative && baseRef) {
    const inc = metric.maxRelativeIncrease!;
    limits.push({ limit: baseRef * (1 + inc), text: `${signedPct(inc, 0)} over the baseline` });
  }
  const numbers: MetricResult["numbers"] = {
    baseline: baseP95,
    baselineReference: baseRef,
    baselineReferenceQuantile: upperQ,
    candidate: candP95,
    relativeChange: change,
    limits: limits.map((l) => l.limit),
    alpha,
  };
  const fails: Parts = [];
  const open: Parts = [];
  const within: Parts = [];
  const shares: Record<string, unknown>[] = [];
  for (const l of limits) {
    const slow = histogramCountAbove(ch, l.limit);
    const t = bernoulliSprt(Math.min(slow, n), n, P95_TAIL, rateAlternatives(P95_TAIL), alpha);
    const share = slow / n;
    shares.push({
      limit: l.limit,
      slower: slow,
      share,
      logLikelihoodRatio: t.logLikelihoodRatio,
      p: t.pValue,
    });
    const what = () => `${pct(share)} of requests slower than ${show(l.limit)} (${l.text})`;
    if (t.rejects)
      fails.push(() => `${what()}: more than 5%, so the p95 is above it (p = ${fmtP(t.pValue)})`);
    else if (share <= P95_TAIL)
      within.push(() => `within ${l.text} (${pct(share)} slower than ${show(l.limit)})`);
    else open.push(() => `${what()}: above 5%, not yet shown (p = ${fmtP(t.pValue)})`);
  }
  numbers.shares = shares;
  return verdict(metric.kind, immediateRollback, numbers, head, { fails, open, within }, "no limit to test");
}
