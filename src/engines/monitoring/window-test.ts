// Each window's comparison with the baseline is a test, not a raw point estimate: a window
// breaches when its value is past the rule's threshold (the baseline moved by the rule's
// change) and it is significantly worse than the baseline (one-sided, at the rule's alpha,
// the noise of both windows counted), with at least `minSample` observations on both sides.
// A stable version sits at its baseline, inside the threshold: a window breaches by chance
// only when noise alone carries it past the threshold and past the test, which the
// consecutive-window count then makes rarer still (bench:monitor measures it).

import { histogramCountAbove, histogramQuantile } from "../rollout/latency.ts";
import {
  chiSquareSf,
  hellingerDistance,
  jensenShannonDistance,
  ksFromCounts,
  lInfinityDistance,
  normalCdf,
  normalSf,
  psiFromCounts,
} from "../stats/index.ts";
import { binnedMoments } from "./bins.ts";
import type { DriftRule, Histogram, MetricRule, MetricSums, WindowVerdict } from "./types.ts";

const fmt = (x: number) =>
  Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3);

/** The metric's value, its denominator, and (for means) the sample variance. */
interface Estimate {
  value: number | null;
  n: number;
  variance: number;
}

function rate(x: number, n: number): Estimate {
  // Half a success in one more trial: a window at 0% or 100% still has a variance.
  const p = n > 0 ? x / n : null;
  const shrunk = (x + 0.5) / (n + 1);
  return { value: p, n, variance: shrunk * (1 - shrunk) };
}

function mean(sum: number, sumSq: number, n: number): Estimate {
  if (n === 0) return { value: null, n, variance: 0 };
  const m = sum / n;
  const variance = n > 1 ? Math.max(0, (sumSq - n * m * m) / (n - 1)) : 0;
  return { value: m, n, variance };
}

export function metricEstimate(metric: MetricRule["metric"], s: MetricSums): Estimate {
  switch (metric) {
    case "successRate":
      return rate(s.successes, s.feedbackCount);
    case "errorRate":
      return rate(s.errors, s.requests);
    case "refusalRate":
      return rate(s.refusals, s.requests);
    case "validityRate":
      return rate(s.valid, s.validityChecked);
    case "meanScore":
      return mean(s.scoreSum, s.scoreSumSquares, s.scoreCount);
    case "costPerCall":
      return mean(s.costUsd, s.costSumSquares, s.requests);
    case "costPerSuccess": {
      const cost = mean(s.costUsd, s.costSumSquares, s.requests);
      const success = rate(s.successes, s.feedbackCount);
      const value = cost.value !== null && success.value ? cost.value / success.value : null;
      return { value, n: Math.min(s.requests, s.feedbackCount), variance: 0 };
    }
    case "latencyP50":
      return { value: histogramQuantile(s.latencyHistogram, 0.5), n: s.requests, variance: 0 };
    case "latencyP95":
      return { value: histogramQuantile(s.latencyHistogram, 0.95), n: s.requests, variance: 0 };
    case "inputTokensPerCall":
    case "outputTokensPerCall":
    case "tokensPerCall":
      return tokensEstimate(metric, s);
  }
}

/**
 * Mean tokens per call: the mean exact from the sums, the variance from the binned token
 * histograms (binnedMoments). Input plus output: their covariance is not kept, so the variance
 * is bounded by (sd_in + sd_out)^2, the most it can be (a conservative test). Without the
 * histograms the variance is unknown (NaN) and the window cannot be judged.
 */
function tokensEstimate(
  metric: "inputTokensPerCall" | "outputTokensPerCall" | "tokensPerCall",
  s: MetricSums,
) {
  const n = s.requests;
  const sum =
    metric === "inputTokensPerCall"
      ? s.tokensIn
      : metric === "outputTokensPerCall"
        ? s.tokensOut
        : s.tokensIn + s.tokensOut;
  const value = n > 0 ? sum / n : null;
  const h = s.tokenHistograms;
  if (!h) return { value, n, variance: Number.NaN };
  const sdIn = Math.sqrt(binnedMoments(h.in).variance);
  const sdOut = Math.sqrt(binnedMoments(h.out).variance);
  const sd = metric === "inputTokensPerCall" ? sdIn : metric === "outputTokensPerCall" ? sdOut : sdIn + sdOut;
  return { value, n, variance: sd * sd };
}

export function thresholdOf(rule: MetricRule, base: number): number {
  const sign = rule.direction === "drop" ? -1 : 1;
  return rule.changeKind === "relative" ? base * (1 + sign * rule.change) : base + sign * rule.change;
}

const insufficient = (
  reason: string,
  value: number | null,
  n: number,
  baseline: number | null,
): WindowVerdict => ({
  status: "insufficient",
  value,
  baseline,
  threshold: null,
  n,
  p: null,
  reason,
});

/** p of z = (current - baseline) / se, one-sided in the rule's bad direction. */
function oneSided(rule: MetricRule, z: number): number {
  return rule.direction === "drop" ? normalCdf(z) : normalSf(z);
}

/** A metric rule's test of one window against the baseline window. */
export function testMetricWindow(rule: MetricRule, current: MetricSums, baseline: MetricSums): WindowVerdict {
  const cur = metricEstimate(rule.metric, current);
  const base = metricEstimate(rule.metric, baseline);
  if (base.value === null || base.n < rule.minSample)
    return insufficient(
      `the baseline has ${base.n} observations, fewer than ${rule.minSample}`,
      cur.value,
      cur.n,
      base.value,
    );
  if (cur.value === null || cur.n < rule.minSample)
    return insufficient(
      `the window has ${cur.n} observations, fewer than ${rule.minSample}`,
      cur.value,
      cur.n,
      base.value,
    );
  if (Number.isNaN(cur.variance) || Number.isNaN(base.variance))
    return insufficient(
      "the token counts' histograms (request features) are not recorded for this window or the baseline",
      cur.value,
      cur.n,
      base.value,
    );
  const threshold = thresholdOf(rule, base.value);
  // The test: is the window worse than the baseline at all, beyond the noise of both?
  let z: number;
  if (rule.metric === "latencyP50" || rule.metric === "latencyP95") {
    // "pq latency is no higher than the baseline's" is "at most 1 - q of the requests are
    // slower than the baseline's pq": a rate.
    const tail = rule.metric === "latencyP50" ? 0.5 : 0.05;
    const above = histogramCountAbove(current.latencyHistogram, base.value);
    z = (above / cur.n - tail) / Math.sqrt((tail * (1 - tail)) / cur.n);
  } else if (rule.metric === "costPerSuccess") {
    // On the log scale, by the delta method: log(cost per call) - log(success rate).
    const logVar = (s: MetricSums) => {
      const c = mean(s.costUsd, s.costSumSquares, s.requests);
      const p = (s.successes + 0.5) / (s.feedbackCount + 1);
      return c.variance / (s.requests * c.value! ** 2) + (1 - p) / (s.feedbackCount * p);
    };
    if (!(base.value > 0) || !(cur.value > 0))
      return insufficient(
        "cost per success needs a cost and a success on both sides",
        cur.value,
        cur.n,
        base.value,
      );
    z = (Math.log(cur.value) - Math.log(base.value)) / Math.sqrt(logVar(current) + logVar(baseline));
  } else {
    const se = Math.sqrt(cur.variance / cur.n + base.variance / base.n);
    // No variance on either side (every cost identical): the difference is exact.
    z = se > 0 ? (cur.value - base.value) / se : Math.sign(cur.value - base.value) * 1e6;
  }
  const p = oneSided(rule, z);
  const past = rule.direction === "drop" ? cur.value < threshold : cur.value > threshold;
  const significant = p < rule.alpha;
  const worse = rule.direction === "drop" ? "below" : "above";
  const base_ = `baseline ${fmt(base.value)}, threshold ${fmt(threshold)}`;
  return {
    status: past && significant ? "breach" : "ok",
    value: cur.value,
    baseline: base.value,
    threshold,
    n: cur.n,
    p,
    reason: !past
      ? `${rule.metric} ${fmt(cur.value)} is within the threshold (${base_})`
      : significant
        ? `${rule.metric} ${fmt(cur.value)} is ${worse} the threshold and significantly worse than the baseline (${base_}; p = ${p.toPrecision(2)} < ${rule.alpha})`
        : `${rule.metric} ${fmt(cur.value)} is ${worse} the threshold, but not significantly worse than the baseline (${base_}; p = ${p.toPrecision(2)})`,
  };
}

/** Bins of either histogram, in a stable order: numeric bins by value, the rest by name. */
export function alignBins(a: Histogram, b: Histogram): { bins: string[]; ref: number[]; cur: number[] } {
  const bins = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort((x, y) => {
    const nx = Number.parseFloat(x);
    const ny = Number.parseFloat(y);
    if (Number.isFinite(nx) && Number.isFinite(ny) && nx !== ny) return nx - ny;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return { bins, ref: bins.map((k) => a[k] ?? 0), cur: bins.map((k) => b[k] ?? 0) };
}

/**
 * Chi-square test of homogeneity of two histograms (2 x k, no continuity correction). Bins
 * whose expected count is under 5 on either side are pooled into one, so sparse tails (a
 * bin the baseline never saw) do not make a handful of requests look significant.
 */
export function homogeneity(
  ref: readonly number[],
  cur: readonly number[],
): { chiSquare: number; df: number; p: number } {
  const nr = ref.reduce((s, x) => s + x, 0);
  const nc = cur.reduce((s, x) => s + x, 0);
  const n = nr + nc;
  const columns: [number, number][] = [];
  const rest: [number, number] = [0, 0];
  for (let i = 0; i < ref.length; i++) {
    const col = ref[i]! + cur[i]!;
    if (col === 0) continue;
    if (Math.min(col * nr, col * nc) / n < 5) {
      rest[0] += ref[i]!;
      rest[1] += cur[i]!;
    } else columns.push([ref[i]!, cur[i]!]);
  }
  if (rest[0] + rest[1] > 0) columns.push(rest);
  if (columns.length < 2) return { chiSquare: 0, df: 0, p: 1 };
  let chiSquare = 0;
  for (const [r, c] of columns) {
    const er = ((r + c) * nr) / n;
    const ec = ((r + c) * nc) / n;
    chiSquare += (r - er) ** 2 / er + (c - ec) ** 2 / ec;
  }
  const df = columns.length - 1;
  return { chiSquare, df, p: chiSquareSf(chiSquare, df) };
}

/**
 * A drift rule's test of one window's feature histogram against the baseline's: it breaches
 * when the statistic exceeds the rule's threshold and the two histograms differ significantly
 * (chi-square homogeneity; KS for `ks`), so a small window's noise alone cannot breach.
 */
export function testDriftWindow(rule: DriftRule, current: Histogram, baseline: Histogram): WindowVerdict {
  const { ref, cur } = alignBins(baseline, current);
  const nr = ref.reduce((s, x) => s + x, 0);
  const nc = cur.reduce((s, x) => s + x, 0);
  if (nr < rule.minSample)
    return insufficient(
      `the baseline has ${nr} requests with ${rule.feature}, fewer than ${rule.minSample}`,
      null,
      nc,
      null,
    );
  if (nc < rule.minSample)
    return insufficient(
      `the window has ${nc} requests with ${rule.feature}, fewer than ${rule.minSample}`,
      null,
      nc,
      null,
    );
  let value: number;
  let p: number;
  if (rule.statistic === "ks") {
    const ks = ksFromCounts(ref, cur);
    value = ks.statistic;
    p = ks.p;
  } else {
    value =
      rule.statistic === "psi"
        ? psiFromCounts(ref, cur).psi
        : rule.statistic === "jensenShannon"
          ? jensenShannonDistance(ref, cur, { base: 2 })
          : rule.statistic === "hellinger"
            ? hellingerDistance(ref, cur)
            : lInfinityDistance(ref, cur);
    p = homogeneity(ref, cur).p;
  }
  const breach = value > rule.threshold && p < rule.alpha;
  return {
    status: breach ? "breach" : "ok",
    value,
    baseline: null,
    threshold: rule.threshold,
    n: nc,
    p,
    reason: breach
      ? `${rule.statistic} of ${rule.feature} is ${fmt(value)} > ${rule.threshold} and the shift is significant (p = ${p.toPrecision(2)})`
      : value > rule.threshold
        ? `${rule.statistic} of ${rule.feature} is ${fmt(value)} > ${rule.threshold}, but not significantly different from the baseline (p = ${p.toPrecision(2)})`
        : `${rule.statistic} of ${rule.feature} is ${fmt(value)}, within ${rule.threshold}`,
  };
}
