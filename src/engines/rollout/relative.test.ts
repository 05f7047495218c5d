// The margin tests are pinned to the statistic by hand (the linear form of the margin, its
// standard error, z) and to the stats engine's always-valid critical value, itself pinned in
// src/engines/stats/always-valid.test.ts; the latency test to the SPRT's likelihood ratio.
import assert from "node:assert/strict";
import { test } from "node:test";
import { near } from "../../test-support/approx.ts";
import { mixtureLR } from "../../test-support/sprt-by-hand.ts";
import { oneSidedCriticalZ } from "../stats/index.ts";
import { histogramCountAbove, histogramQuantile, judgeLatency, latencyBucket } from "./latency.ts";
import { judgeCost, judgeScoreMean, judgeSuccessRate } from "./relative.ts";
import type { VersionWindow } from "./types.ts";

const ctx = { minSample: 200, alpha: 0.05 };
const rate = { kind: "success_rate", maxRelativeDrop: 0.05 } as const;

function win(p: Partial<VersionWindow> = {}): VersionWindow {
  return { requests: 1000, errors: 0, feedbackCount: 0, successes: 0, latencyP95Ms: 300, costUsd: 1, ...p };
}
const fb = (successes: number, n: number) => win({ successes, feedbackCount: n });

/** Variance of a rate with half a pseudo-count each way, as the judge computes it. */
const v = (x: number, n: number) => {
  const p = (x + 0.5) / (n + 1);
  return p * (1 - p);
};

/** By hand: D = pc - (1 - m) pb, its se, z and the always-valid critical value at tau = m pb. */
function byHand(xb: number, nb: number, xc: number, nc: number, m: number, alpha: number) {
  const k = 1 - m;
  const d = xc / nc - k * (xb / nb);
  const se = Math.sqrt(v(xc, nc) / nc + (k * k * v(xb, nb)) / nb);
  return { d, se, z: d / se, c: oneSidedCriticalZ(1 / (se * se), m * (xb / nb), alpha) };
}

test("success rate 72% vs 80% on 5,000 each: worse than the -5% margin by the always-valid test: fail", () => {
  const r = judgeSuccessRate(rate, fb(4000, 5000), fb(3600, 5000), ctx);
  const h = byHand(4000, 5000, 3600, 5000, 0.05, 0.05);
  near(h.d, 0.72 - 0.76, 1e-12, "D by hand");
  near(r.numbers.marginStatistic, h.d, 1e-12, "D");
  near(r.numbers.z, h.z, 1e-9, "z");
  near(r.numbers.criticalZ, h.c, 1e-12, "critical z");
  assert.ok(-h.z > h.c, `|z| ${-h.z} beyond ${h.c}`);
  assert.equal(r.status, "fail");
  near(r.numbers.relativeLift, -0.1, 1e-12, "lift");
  assert.equal(r.immediateRollback, false);
  assert.match(
    r.reason,
    /success rate 72\.0% vs 80\.0% baseline \(-10\.0%\): worse than the -5% relative margin/,
  );
});

test("72% vs 80% on 1,000 each: a fixed one-sided test fails it, the always-valid one waits: inconclusive", () => {
  // The old rule re-ran a fixed-horizon test at every look on a growing window: z = 2.15 > 1.645.
  const r = judgeSuccessRate(rate, fb(800, 1000), fb(720, 1000), ctx);
  const h = byHand(800, 1000, 720, 1000, 0.05, 0.05);
  assert.ok(-h.z > 1.6449 && -h.z < h.c, `z ${-h.z} between z(0.95) and the always-valid ${h.c}`);
  assert.equal(r.status, "inconclusive");
  assert.match(r.reason, /past the -5% relative margin but not yet shown/);
});

test("success rate 77% vs 80%: within the margin passes; 80.5% too", () => {
  assert.equal(judgeSuccessRate(rate, fb(800, 1000), fb(770, 1000), ctx).status, "pass");
  const r = judgeSuccessRate(rate, fb(800, 1000), fb(805, 1000), ctx);
  assert.equal(r.status, "pass");
  assert.match(r.reason, /within the -5% relative margin/);
});

test("a margin in points: 5 points means pc - pb + 0.05 < 0 is the breach", () => {
  const points = { kind: "success_rate", maxDropPoints: 5 } as const;
  // 74% vs 80% is 6 points worse: D = -0.01; on 100,000 each it is shown.
  const r = judgeSuccessRate(points, fb(80_000, 100_000), fb(74_000, 100_000), ctx);
  near(r.numbers.marginStatistic, 0.74 - 0.8 + 0.05, 1e-12, "D");
  assert.equal(r.numbers.marginKind, "points");
  assert.equal(r.status, "fail");
  assert.match(r.reason, /worse than the -5 point margin/);
  // 76% is 4 points worse: within.
  assert.equal(judgeSuccessRate(points, fb(16_000, 20_000), fb(15_200, 20_000), ctx).status, "pass");
});

test("a floor: below 80% fails only when the candidate is shown below it and below the baseline", () => {
  const floor = { kind: "success_rate", min: 0.8 } as const;
  assert.equal(judgeSuccessRate(floor, fb(9_000, 10_000), fb(7_000, 10_000), ctx).status, "fail");
  // The baseline is below the floor too, and the candidate is no worse: not the candidate's fault.
  assert.equal(judgeSuccessRate(floor, fb(7_000, 10_000), fb(7_000, 10_000), ctx).status, "pass");
  assert.equal(judgeSuccessRate(floor, fb(9_000, 10_000), fb(8_500, 10_000), ctx).status, "pass");
});

test("the step's share of alpha: a stricter alpha needs more evidence", () => {
  const loose = judgeSuccessRate(rate, fb(4000, 5000), fb(3600, 5000), ctx);
  const strict = judgeSuccessRate(rate, fb(4000, 5000), fb(3600, 5000), { ...ctx, share: 0.2 / 3 });
  near(strict.numbers.alpha, 0.05 * (0.2 / 3), 1e-12, "alpha");
  assert.ok((strict.numbers.criticalZ as number) > (loose.numbers.criticalZ as number));
});

test("success rate below the minimum feedback per arm is insufficient_data, whatever the rates", () => {
  const r = judgeSuccessRate(rate, fb(800, 1000), fb(10, 199), ctx);
  assert.equal(r.status, "insufficient_data");
  assert.equal(r.numbers.candidateN, 199);
  assert.match(r.reason, /199 for the candidate and 1,000 for the baseline, below the minimum of 200/);
  assert.equal(judgeSuccessRate(rate, fb(0, 0), fb(0, 0), ctx).status, "insufficient_data");
});

test("every outcome a success, or none: the pseudo-counts keep a variance; 0 of 300 against 80% fails", () => {
  assert.equal(judgeSuccessRate(rate, fb(300, 300), fb(300, 300), ctx).status, "pass");
  const r = judgeSuccessRate(rate, fb(240, 300), fb(0, 300), ctx);
  assert.equal(r.status, "fail");
  near(r.numbers.relativeLift, -1, 1e-12, "lift");
  assert.equal(judgeSuccessRate(rate, fb(0, 300), fb(0, 300), ctx).status, "pass");
});

test("mean score 0.6 vs 0.7 (sd 0.25 and 0.2, n = 300): shown worse than the -5% margin", () => {
  // sumSquares = (n - 1) sd^2 + n mean^2
  const base = win({ scoreCount: 300, scoreSum: 210, scoreSumSquares: 299 * 0.04 + 300 * 0.49 });
  const cand = win({ scoreCount: 300, scoreSum: 180, scoreSumSquares: 299 * 0.0625 + 300 * 0.36 });
  const r = judgeScoreMean({ kind: "score_mean", maxRelativeDrop: 0.05 }, base, cand, ctx);
  const d = 0.6 - 0.95 * 0.7;
  const se = Math.sqrt(0.0625 / 300 + (0.95 * 0.95 * 0.04) / 300);
  near(r.numbers.marginStatistic, d, 1e-9, "D");
  near(r.numbers.z, d / se, 1e-6, "z");
  near(r.numbers.criticalZ, oneSidedCriticalZ(1 / (se * se), 0.05 * 0.7, 0.05), 1e-6, "critical z");
  assert.equal(r.status, "fail");
  near(r.numbers.relativeLift, -0.1428571428571428, 1e-9, "lift");
  assert.equal(
    judgeScoreMean({ kind: "score_mean", maxRelativeDrop: 0.05 }, win(), win(), ctx).status,
    "insufficient_data",
  );
  // An absolute margin in score units.
  const abs = judgeScoreMean({ kind: "score_mean", maxDrop: 0.2 }, base, cand, ctx);
  assert.equal(abs.status, "pass");
});

/** A latency histogram with `n` requests spread evenly over [lo, hi) ms on the log scale. */
function hist(entries: [ms: number, count: number][]): number[] {
  const h: number[] = [];
  for (const [ms, c] of entries) {
    const b = latencyBucket(ms);
    for (let i = h.length; i <= b; i++) h[i] = 0;
    h[b]! += c;
  }
  return h;
}

test("latency histogram: buckets 16 per doubling, quantile and count above interpolated on the log scale", () => {
  assert.equal(latencyBucket(0.3), 0);
  assert.equal(latencyBucket(1), 0);
  assert.equal(latencyBucket(2), 16);
  assert.equal(latencyBucket(1000), Math.floor(16 * Math.log2(1000)));
  const h = hist([
    [100, 900],
    [1000, 100],
  ]);
  const b = latencyBucket(1000);
  const lo = 2 ** (b / 16);
  const hi = 2 ** ((b + 1) / 16);
  // The 95th percentile is half way into the 1000 ms bucket (50 of its 100), on the log scale.
  near(histogramQuantile(h, 0.95)!, lo * Math.sqrt(hi / lo), 1e-12, "p95");
  near(histogramCountAbove(h, lo), 100, 1e-12, "all of the bucket above its lower edge");
  near(histogramCountAbove(h, hi), 0, 1e-12, "none above its upper edge");
  near(histogramCountAbove(h, lo * Math.sqrt(hi / lo)), 50, 1e-9, "half above its log midpoint");
  assert.equal(histogramQuantile([], 0.95), null);
});

test("p95 latency as a test: the share of candidate requests slower than the limit, by Wald's SPRT", () => {
  const metric = { kind: "latency_p95_ms", maxRelativeIncrease: 0.2 } as const;
  // Baseline: 95% at 200 ms, 5% at 400 ms, so its p95 is at the 400 ms bucket's lower edge.
  const base = win({
    requests: 10_000,
    latencyHistogram: hist([
      [200, 9_500],
      [400, 500],
    ]),
  });
  // The limit is 1.2 x an upper confidence limit of its p95: the quantile at 0.95 + 1.96 sqrt(0.95 x 0.05 / 10,000).
  const p95 = histogramQuantile(base.latencyHistogram!, 0.95 + 1.96 * Math.sqrt((0.95 * 0.05) / 10_000))!;
  assert.ok(p95 > 390 && p95 < 420, `in the 400 ms bucket: ${p95}`);
  // Candidate: 15% of 2,000 requests at 1,000 ms, far above p95 x 1.2: fails.
  const slow = win({
    requests: 2_000,
    latencyHistogram: hist([
      [200, 1_700],
      [1000, 300],
    ]),
  });
  const r = judgeLatency(metric, base, slow, ctx);
  assert.equal(r.status, "fail");
  near((r.numbers.limits as number[])[0]!, p95 * 1.2, 1e-12, "limit");
  const [share] = r.numbers.shares as Record<string, number>[];
  near(share!.share, 0.15, 1e-12, "share slower");
  // ln LR of 300 slow of 2,000 against 5%, by hand with the mixture's rates.
  const lr = mixtureLR(300, 2000, 0.05);
  near(share!.logLikelihoodRatio, Math.log(lr), 1e-9, "ln LR");
  assert.match(r.reason, /15\.0% of requests slower than .* more than 5%, so the p95 is above it/);
  // 4% slower: within; 6% of 200: above but not shown.
  const fine = win({
    requests: 2_000,
    latencyHistogram: hist([
      [200, 1_920],
      [1000, 80],
    ]),
  });
  assert.equal(judgeLatency(metric, base, fine, ctx).status, "pass");
  const unsure = win({
    requests: 200,
    latencyHistogram: hist([
      [200, 188],
      [1000, 12],
    ]),
  });
  assert.equal(judgeLatency(metric, base, unsure, ctx).status, "inconclusive");
  const few = judgeLatency(metric, base, win({ requests: 50, latencyHistogram: hist([[900, 50]]) }), ctx);
  assert.equal(few.status, "insufficient_data");
  const none = judgeLatency(metric, win(), win(), ctx);
  assert.equal(none.status, "insufficient_data");
  assert.match(none.reason, /no latency histogram/);
  const abs = judgeLatency({ kind: "latency_p95_ms", max: 500 }, base, slow, ctx);
  assert.equal(abs.status, "fail");
  assert.match(abs.reason, /the 500 ms maximum/);
});

test("cost per request: $0.0013 vs $0.001 with +25% allowed is shown above the limit; an absolute max alone passes", () => {
  // Each request costs exactly its mean: sum of squares = n mean^2 (the floor keeps a variance).
  const base = win({ requests: 1000, costUsd: 1, costSumSquares: 1000 * 0.001 ** 2 });
  const cand = win({ requests: 1000, costUsd: 1.3, costSumSquares: 1000 * 0.0013 ** 2 });
  const rel = judgeCost({ kind: "cost_per_request_usd", maxRelativeIncrease: 0.25 }, base, cand, ctx);
  assert.equal(rel.status, "fail");
  near(rel.numbers.candidate, 0.0013, 1e-12, "cost");
  near((rel.numbers.limits as number[])[0]!, 0.00125, 1e-12, "limit");
  const abs = judgeCost({ kind: "cost_per_request_usd", max: 0.002 }, base, cand, ctx);
  assert.equal(abs.status, "pass");
  // An absolute maximum needs no baseline traffic.
  assert.equal(
    judgeCost({ kind: "cost_per_request_usd", max: 0.002 }, win({ requests: 0 }), cand, ctx).status,
    "pass",
  );
  // Noisy costs: a 30% higher mean on a few requests with a wide spread is not yet shown.
  const noisyBase = win({ requests: 200, costUsd: 0.2, costSumSquares: 200 * 0.001 ** 2 * 10 });
  const noisyCand = win({ requests: 200, costUsd: 0.26, costSumSquares: 200 * 0.0013 ** 2 * 10 });
  assert.equal(
    judgeCost({ kind: "cost_per_request_usd", maxRelativeIncrease: 0.25 }, noisyBase, noisyCand, ctx).status,
    "inconclusive",
  );
});
