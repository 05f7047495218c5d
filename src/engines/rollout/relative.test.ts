// Reference values: scipy 1.17 (stats.t.cdf / stats.t.ppf on the delta-method se and the
// Welch–Satterthwaite df, computed by hand in Python from the same counts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { judgeCost, judgeLatency, judgeScoreMean, judgeSuccessRate } from "./relative.ts";
import type { VersionWindow } from "./types.ts";

const ctx = { minSample: 200, alpha: 0.05 };
const rate = { kind: "success_rate", maxRelativeDrop: 0.05 } as const;

function win(p: Partial<VersionWindow> = {}): VersionWindow {
  return { requests: 1000, errors: 0, feedbackCount: 0, successes: 0, latencyP95Ms: 300, costUsd: 1, ...p };
}
const fb = (successes: number, n: number) => win({ successes, feedbackCount: n });

function near(actual: unknown, expected: number, rel = 1e-9, label = ""): void {
  assert.equal(typeof actual, "number", label);
  const a = actual as number;
  assert.ok(Math.abs(a - expected) <= rel * Math.abs(expected), `${label}: got ${a}, expected ${expected}`);
}

test("success rate 72% vs 80%: worse than the -5% margin at one-sided alpha 0.05 fails", () => {
  const r = judgeSuccessRate(rate, fb(800, 1000), fb(720, 1000), ctx);
  assert.equal(r.status, "fail");
  near(r.numbers.relativeLift, -0.1, 1e-12, "lift");
  near(r.numbers.se, 0.02274862633215465, 1e-9, "se");
  near(r.numbers.df, 1971.9015303756378, 1e-9, "df");
  near(r.numbers.pWorseThanMargin, 0.01403480559586427, 1e-7, "pWorse");
  const ci = r.numbers.ci as number[];
  near(ci[0], -0.13743574763837674, 1e-8, "ci lo");
  near(ci[1], -0.06256425236162343, 1e-8, "ci hi");
  assert.equal(r.immediateRollback, false);
  assert.match(
    r.reason,
    /success rate 72\.0% vs 80\.0% baseline: -10\.0% relative \(90% CI -13\.7% to -6\.3%\)/,
  );
  assert.match(r.reason, /one-sided p = 0\.014 < 0\.05/);
});

test("success rate 80.5% vs 80%: the one-sided bound clears the margin, non-inferior", () => {
  const r = judgeSuccessRate(rate, fb(800, 1000), fb(805, 1000), ctx);
  assert.equal(r.status, "pass");
  near((r.numbers.ci as number[])[0], -0.030488487837180826, 1e-8, "ci lo");
  near(r.numbers.pWorseThanMargin, 0.9940867139512992, 1e-9, "pWorse");
  assert.match(r.reason, /non-inferior/);
});

test("success rate 77% vs 80%: the bound is past the margin but the estimate is within it: pass", () => {
  const r = judgeSuccessRate(rate, fb(800, 1000), fb(770, 1000), ctx);
  assert.equal(r.status, "pass");
  near((r.numbers.ci as number[])[0], -0.07460205100977911, 1e-8, "ci lo");
  near(r.numbers.pWorseThanMargin, 0.7103242187937397, 1e-8, "pWorse");
  assert.match(r.reason, /within the -5% margin/);
});

test("success rate 74.5% vs 80% on 200 each: past the margin, not significantly: inconclusive", () => {
  const r = judgeSuccessRate(rate, fb(160, 200), fb(149, 200), ctx);
  assert.equal(r.status, "inconclusive");
  near(r.numbers.relativeLift, -0.06875, 1e-12, "lift");
  near(r.numbers.pWorseThanMargin, 0.355795432767814, 1e-8, "pWorse");
  assert.match(r.reason, /not significantly \(one-sided p = 0\.356 ≥ 0\.05\)/);
});

test("at the boundary: 73.0% fails (p = 0.0495), 73.1% is inconclusive (p = 0.0553)", () => {
  const fail = judgeSuccessRate(rate, fb(800, 1000), fb(730, 1000), ctx);
  assert.equal(fail.status, "fail");
  near(fail.numbers.pWorseThanMargin, 0.04948619535468862, 1e-7, "p 730");
  const held = judgeSuccessRate(rate, fb(800, 1000), fb(731, 1000), ctx);
  assert.equal(held.status, "inconclusive");
  near(held.numbers.pWorseThanMargin, 0.05534180579528856, 1e-7, "p 731");
});

test("a stricter alpha turns the 72% fail into an inconclusive", () => {
  const r = judgeSuccessRate({ ...rate, alpha: 0.01 }, fb(800, 1000), fb(720, 1000), ctx);
  assert.equal(r.status, "inconclusive");
  assert.equal(r.numbers.confidence, 0.98);
});

test("success rate below the minimum feedback per arm is insufficient_data, whatever the rates", () => {
  const r = judgeSuccessRate(rate, fb(800, 1000), fb(10, 199), ctx);
  assert.equal(r.status, "insufficient_data");
  assert.equal(r.numbers.candidateN, 199);
  assert.match(r.reason, /199 for the candidate and 1,000 for the baseline, below the minimum of 200/);
  assert.equal(judgeSuccessRate(rate, fb(0, 0), fb(0, 0), ctx).status, "insufficient_data");
});

test("no variance to test: 100% vs 100% passes, 0 successes vs 80% fails on the estimate", () => {
  assert.equal(judgeSuccessRate(rate, fb(300, 300), fb(300, 300), ctx).status, "pass");
  const r = judgeSuccessRate(rate, fb(240, 300), fb(0, 300), ctx);
  assert.equal(r.status, "fail");
  near(r.numbers.relativeLift, -1, 1e-12, "lift");
  // 0% baseline: the candidate cannot be worse.
  assert.equal(judgeSuccessRate(rate, fb(0, 300), fb(0, 300), ctx).status, "pass");
});

test("mean score 0.6 vs 0.7 (sd 0.25 and 0.2, n = 300): Welch non-inferiority fails", () => {
  // sumSquares = (n - 1) sd^2 + n mean^2
  const base = win({ scoreCount: 300, scoreSum: 210, scoreSumSquares: 299 * 0.04 + 300 * 0.49 });
  const cand = win({ scoreCount: 300, scoreSum: 180, scoreSumSquares: 299 * 0.0625 + 300 * 0.36 });
  const r = judgeScoreMean({ kind: "score_mean", maxRelativeDrop: 0.05 }, base, cand, ctx);
  assert.equal(r.status, "fail");
  near(r.numbers.relativeLift, -0.1428571428571428, 1e-9, "lift");
  near(r.numbers.se, 0.025001735327805516, 1e-8, "se");
  near(r.numbers.df, 570.5096481271283, 1e-7, "df");
  near(r.numbers.pWorseThanMargin, 0.00011201547040630289, 1e-6, "pWorse");
  assert.equal(
    judgeScoreMean({ kind: "score_mean", maxRelativeDrop: 0.05 }, win(), win(), ctx).status,
    "insufficient_data",
  );
});

test("p95 latency: relative +20% and absolute maximum", () => {
  const metric = { kind: "latency_p95_ms", maxRelativeIncrease: 0.2, max: 500 } as const;
  const ok = judgeLatency(metric, win({ latencyP95Ms: 350 }), win({ latencyP95Ms: 420 }), ctx);
  assert.equal(ok.status, "pass");
  near(ok.numbers.relativeChange, 0.2, 1e-12, "change");
  const slow = judgeLatency(metric, win({ latencyP95Ms: 350 }), win({ latencyP95Ms: 421 }), ctx);
  assert.equal(slow.status, "fail");
  assert.match(
    slow.reason,
    /p95 latency 421 ms vs 350 ms baseline \(\+20\.3%\): above \+20% over the baseline \(420 ms\)/,
  );
  const abs = judgeLatency(metric, win({ latencyP95Ms: 1000 }), win({ latencyP95Ms: 600 }), ctx);
  assert.equal(abs.status, "fail");
  assert.match(abs.reason, /above the 500 ms maximum/);
  const few = judgeLatency(metric, win({ latencyP95Ms: 350 }), win({ requests: 50, latencyP95Ms: 900 }), ctx);
  assert.equal(few.status, "insufficient_data");
});

test("cost per request: candidate $0.0013 vs $0.001 with +25% allowed fails, absolute max alone passes", () => {
  const base = win({ requests: 1000, costUsd: 1 });
  const cand = win({ requests: 1000, costUsd: 1.3 });
  const rel = judgeCost({ kind: "cost_per_request_usd", maxRelativeIncrease: 0.25 }, base, cand, ctx);
  assert.equal(rel.status, "fail");
  near(rel.numbers.candidate, 0.0013, 1e-12, "cost");
  near((rel.numbers.limits as number[])[0], 0.00125, 1e-12, "limit");
  const abs = judgeCost({ kind: "cost_per_request_usd", max: 0.002 }, base, cand, ctx);
  assert.equal(abs.status, "pass");
  // An absolute maximum needs no baseline traffic.
  assert.equal(
    judgeCost({ kind: "cost_per_request_usd", max: 0.002 }, win({ requests: 0 }), cand, ctx).status,
    "pass",
  );
});
