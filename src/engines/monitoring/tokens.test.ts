import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRandom } from "../fairness/random.ts";
import { normalSf } from "../stats/index.ts";
import {
  binnedMoments,
  type Histogram,
  type MetricRule,
  type MetricSums,
  NUMERIC_BIN_BOUNDS,
  parseRuleText,
  RuleTextError,
  testMetricWindow,
} from "./index.ts";

// Tokens per call: the mean exact from the roll-ups' sums, the variance from the binned token
// counts (the feature roll-up keeps bins, not values).

const gaussian = (rand: () => number) =>
  Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-300))) * Math.cos(2 * Math.PI * rand());
/** Whole token counts, log-normal around `median`. */
const tokens = (rand: () => number, n: number, median: number, sigma: number) =>
  Array.from({ length: n }, () => Math.round(median * Math.exp(sigma * gaussian(rand))));

/** The bin of a count as the gateway files it: the greatest bound not above it. */
function binOf(x: number): string {
  let b = 0;
  for (const bound of NUMERIC_BIN_BOUNDS) if (bound <= x) b = bound;
  return String(b);
}
const histogram = (xs: readonly number[]): Histogram => {
  const h: Record<string, number> = {};
  for (const x of xs) h[binOf(x)] = (h[binOf(x)] ?? 0) + 1;
  return h;
};
const exact = (xs: readonly number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean: m, variance: xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1) };
};

/** A window's sums as the request log's roll-ups would hold them for these calls. */
function window(ins: readonly number[], outs: readonly number[], histograms = true): MetricSums {
  return {
    requests: ins.length,
    errors: 0,
    costUsd: 0,
    costSumSquares: 0,
    latencyHistogram: [],
    feedbackCount: 0,
    successes: 0,
    scoreCount: 0,
    scoreSum: 0,
    scoreSumSquares: 0,
    refusals: 0,
    validityChecked: 0,
    valid: 0,
    tokensIn: ins.reduce((a, b) => a + b, 0),
    tokensOut: outs.reduce((a, b) => a + b, 0),
    ...(histograms ? { tokenHistograms: { in: histogram(ins), out: histogram(outs) } } : {}),
  };
}

test("binned moments: exact on the single-value bins 0-3; on log-normal token counts 0-10% above the exact variance (Sheppard)", () => {
  const small = [0, 1, 1, 2, 3, 3, 3, 0, 2, 1];
  const m = binnedMoments(histogram(small));
  assert.equal(m.n, 10);
  assert.ok(Math.abs(m.mean - exact(small).mean) < 1e-12);
  assert.ok(Math.abs(m.variance - exact(small).variance) < 1e-12);

  const rand = seededRandom(7);
  for (const [median, sigma] of [
    [200, 0.6],
    [400, 0.8],
    [30, 1.2],
    [12, 0.3],
    [1000, 0.3],
  ] as const) {
    const xs = tokens(rand, 20_000, median, sigma);
    const b = binnedMoments(histogram(xs));
    const e = exact(xs);
    assert.ok(Math.abs(b.mean / e.mean - 1) < 0.03, `mean ${b.mean} vs ${e.mean} (median ${median})`);
    assert.ok(
      b.variance / e.variance > 0.97 && b.variance / e.variance < 1.1,
      `variance ${b.variance} vs ${e.variance} (median ${median}, sigma ${sigma})`,
    );
  }
  // `__other__` and unknown bins are not counted; an empty histogram has no moments.
  assert.deepEqual(binnedMoments({ __other__: 5, "5": 3 }), { n: 0, mean: 0, variance: 0 });
  // The open last bin counts at its lower bound.
  const top = NUMERIC_BIN_BOUNDS.at(-1)!;
  assert.equal(binnedMoments({ [String(top)]: 2 }).mean, top);
});

test("tokens per call in words: relative and absolute (tokens) changes, input, output and both", () => {
  const r = parseRuleText(
    "output tokens per call rises >30% from baseline for 3 consecutive days",
  ) as MetricRule;
  assert.deepEqual(
    [r.metric, r.direction, r.change, r.changeKind, r.windows],
    ["outputTokensPerCall", "rise", 0.3, "relative", 3],
  );
  const abs = parseRuleText("tokens per request rises by 200 tokens from baseline for 2 days") as MetricRule;
  assert.deepEqual([abs.metric, abs.change, abs.changeKind], ["tokensPerCall", 200, "absolute"]);
  const prompt = parseRuleText("prompt tokens per call drops 50% from baseline") as MetricRule;
  assert.deepEqual([prompt.metric, prompt.direction], ["inputTokensPerCall", "drop"]);
  assert.throws(() => parseRuleText("success rate drops 20 tokens from baseline"), RuleTextError);
  assert.throws(() => parseRuleText("output tokens per call rises 5 points from baseline"), /rates only/);
});

test("output tokens per call: a 50% rise breaches, a stable window does not; the z uses the binned variance", () => {
  const rand = seededRandom(11);
  const rule = parseRuleText("output tokens per call rises >30% from baseline for 3 days") as MetricRule;
  const base = window(tokens(rand, 7000, 400, 0.8), tokens(rand, 7000, 200, 0.6));
  const longer = window(tokens(rand, 300, 400, 0.8), tokens(rand, 300, 300, 0.6));
  const v = testMetricWindow(rule, longer, base);
  assert.equal(v.status, "breach", v.reason);
  assert.ok(v.value! > 1.4 * v.baseline!, `${v.value} vs ${v.baseline}`);
  // The p-value is the one-sided z over both windows' binned variances.
  const vc = binnedMoments(longer.tokenHistograms!.out).variance;
  const vb = binnedMoments(base.tokenHistograms!.out).variance;
  const z = (v.value! - v.baseline!) / Math.sqrt(vc / 300 + vb / 7000);
  assert.ok(z > 5, `z ${z}`);
  assert.ok(Math.abs(v.p! - normalSf(z)) <= 1e-12 + 1e-9 * normalSf(z), `p ${v.p} vs ${normalSf(z)}`);

  const stable = testMetricWindow(
    rule,
    window(tokens(rand, 300, 400, 0.8), tokens(rand, 300, 200, 0.6)),
    base,
  );
  assert.equal(stable.status, "ok", stable.reason);

  // Without the histograms the variance is unknown: the window is not judged.
  const blind = testMetricWindow(rule, window([1, 2], [3, 4], false), base);
  assert.equal(blind.status, "insufficient");
  assert.match(blind.reason, /fewer than 100|histograms/);
  const blind2 = testMetricWindow(
    rule,
    window(tokens(rand, 300, 400, 0.8), tokens(rand, 300, 300, 0.6), false),
    base,
  );
  assert.equal(blind2.status, "insufficient");
  assert.match(blind2.reason, /histograms/);
});

test("tokens per call: stable windows of 300 calls breach in under 1% of 2,000; a 50% longer answer is caught in most", () => {
  const rand = seededRandom(23);
  const rule = parseRuleText("tokens per call rises >30% from baseline for 3 days") as MetricRule;
  const base = window(tokens(rand, 7000, 400, 0.8), tokens(rand, 7000, 200, 0.6));
  let breaches = 0;
  for (let w = 0; w < 2000; w++)
    if (
      testMetricWindow(rule, window(tokens(rand, 300, 400, 0.8), tokens(rand, 300, 200, 0.6)), base)
        .status === "breach"
    )
      breaches++;
  assert.ok(breaches / 2000 < 0.01, `${breaches} breaches in 2,000 stable windows`);
  // Both sizes up by half: the total's mean +50%, past the 30% threshold.
  let caught = 0;
  for (let w = 0; w < 200; w++)
    if (
      testMetricWindow(rule, window(tokens(rand, 300, 600, 0.8), tokens(rand, 300, 300, 0.6)), base)
        .status === "breach"
    )
      caught++;
  assert.ok(caught / 200 > 0.8, `caught ${caught} of 200`);
});
