import assert from "node:assert/strict";
import { test } from "node:test";
import { latencyBucket } from "../rollout/latency.ts";
import { normalCdf } from "../stats/index.ts";
import {
  advance,
  DEFAULT_RULES,
  type DriftRule,
  homogeneity,
  INITIAL_STATE,
  type MetricRule,
  type MetricSums,
  parseRuleText,
  type RuleState,
  RuleTextError,
  testDriftWindow,
  testMetricWindow,
} from "./index.ts";

const sums = (over: Partial<MetricSums> = {}): MetricSums => ({
  requests: 0,
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
  tokensIn: 0,
  tokensOut: 0,
  ...over,
});

test("rules in words: the seed's examples", () => {
  const r = parseRuleText("success rate drops >10% from baseline for >5 consecutive days");
  assert.deepEqual(
    { ...r, text: undefined },
    {
      name: "success-rate-drops-gt-10pct-from-baseline-for-gt-5-consecutive-days",
      text: undefined,
      alpha: 0.05,
      minSample: 100,
      kind: "metric",
      metric: "successRate",
      direction: "drop",
      change: 0.1,
      changeKind: "relative",
      windows: 6,
      windowHours: 24,
    },
  );
  const psi = parseRuleText("PSI of input tokens > 0.2 for 3 days", "tokens-drift");
  assert.deepEqual(
    [
      psi.kind,
      psi.name,
      (psi as DriftRule).feature,
      (psi as DriftRule).statistic,
      (psi as DriftRule).threshold,
      psi.windows,
    ],
    ["drift", "tokens-drift", "tokens_in", "psi", 0.2, 3],
  );
  const bias = parseRuleText("bias gap over the gate for 2 days");
  assert.deepEqual([bias.kind, bias.windows, bias.windowHours], ["bias", 2, 24]);
});

test("rules in words: points, ms, hours, at least, group features", () => {
  const pts = parseRuleText("error rate rises by more than 2 points from baseline for 3 hours") as MetricRule;
  assert.deepEqual(
    [pts.metric, pts.direction, pts.changeKind, pts.change, pts.windows, pts.windowHours],
    ["errorRate", "rise", "absolute", 0.02, 3, 1],
  );
  const ms = parseRuleText("p95 latency rises 200 ms above baseline for at least 2 days") as MetricRule;
  assert.deepEqual([ms.metric, ms.changeKind, ms.change, ms.windows], ["latencyP95", "absolute", 200, 2]);
  const g = parseRuleText("Hellinger of group region over 0.1 for 2 days") as DriftRule;
  assert.deepEqual([g.statistic, g.feature], ["hellinger", "group:region"]);
  assert.equal(parseRuleText("success rate drops 5% from baseline").windows, 1, "no duration: one window");
  const eu = parseRuleText(
    "success rate for region=eu drops 5 points from baseline for 3 days",
  ) as MetricRule;
  assert.deepEqual(
    [eu.group, eu.change, eu.changeKind, eu.windows],
    [{ attribute: "region", value: "eu" }, 0.05, "absolute", 3],
  );
  assert.throws(
    () => parseRuleText("error rate for region=eu rises 2 points from baseline"),
    /success rate only/,
  );
});

test("rules in words: what cannot be read is refused with the reason", () => {
  assert.throws(() => parseRuleText("success rate is bad"), RuleTextError);
  assert.throws(() => parseRuleText("mean score drops 2 points from baseline"), /points.*rates only/);
  assert.throws(() => parseRuleText("success rate drops 50 ms from baseline"), /latency only/);
  assert.throws(() => parseRuleText("p95 latency drops 10% from baseline"), /rises, not drops/);
  assert.throws(() => parseRuleText("success rate drops 100% from baseline"), /100%/);
  assert.throws(() => parseRuleText("PSI of my feature!! > 0.2"), /unknown feature/);
});

const decay = (over: Partial<MetricRule> = {}): MetricRule => ({
  name: "decay",
  kind: "metric",
  metric: "successRate",
  direction: "drop",
  change: 0.1,
  changeKind: "relative",
  windows: 5,
  windowHours: 24,
  alpha: 0.05,
  minSample: 100,
  ...over,
});

test("success rate: past the threshold and significantly below the baseline breaches; the z is Wald's over both windows", () => {
  const base = sums({ feedbackCount: 7000, successes: 5600 }); // 0.80
  const cur = sums({ feedbackCount: 1000, successes: 650 }); // 0.65, threshold 0.72
  const v = testMetricWindow(decay(), cur, base);
  assert.equal(v.status, "breach");
  assert.equal(v.threshold?.toFixed(4), "0.7200");
  const pc = 650.5 / 1001;
  const pb = 5600.5 / 7001;
  const z = (0.65 - 0.8) / Math.sqrt((pc * (1 - pc)) / 1000 + (pb * (1 - pb)) / 7000);
  assert.ok(Math.abs(v.p! - normalCdf(z)) < 1e-12, `${v.p} vs ${normalCdf(z)}`);
  assert.match(v.reason, /below the threshold and significantly worse than the baseline/);
});

test("success rate: within the threshold is ok however significant; past it on too little evidence is ok too", () => {
  const base = sums({ feedbackCount: 7000, successes: 5600 });
  assert.equal(testMetricWindow(decay(), sums({ feedbackCount: 1000, successes: 800 }), base).status, "ok");
  const within = testMetricWindow(decay(), sums({ feedbackCount: 5000, successes: 3650 }), base);
  assert.ok(within.p! < 1e-6, "0.73 is significantly below 0.80");
  assert.equal(within.status, "ok", "but a 9% drop is within the rule's 10%");
  assert.match(within.reason, /within the threshold/);
  // A small baseline (0.78 of 100, threshold 0.702): 0.70 of 200 is past it, but the two
  // windows' noise covers the gap (z = -1.52).
  const smallBase = sums({ feedbackCount: 100, successes: 78 });
  const noisy = testMetricWindow(decay(), sums({ feedbackCount: 200, successes: 140 }), smallBase);
  assert.equal(noisy.status, "ok", JSON.stringify(noisy));
  assert.match(noisy.reason, /not significantly worse/);
});

test("too few observations: insufficient, on either side", () => {
  const base = sums({ feedbackCount: 7000, successes: 5600 });
  const small = testMetricWindow(decay(), sums({ feedbackCount: 40, successes: 0 }), base);
  assert.equal(small.status, "insufficient");
  assert.match(small.reason, /40 observations, fewer than 100/);
  assert.equal(
    testMetricWindow(decay(), base, sums({ feedbackCount: 10, successes: 9 })).status,
    "insufficient",
  );
});

test("error rate rises by points; cost per call by its mean and variance; meanScore drops", () => {
  const rise = decay({ metric: "errorRate", direction: "rise", change: 0.02, changeKind: "absolute" });
  const base = sums({ requests: 10_000, errors: 100 });
  assert.equal(
    testMetricWindow(rise, sums({ requests: 2000, errors: 90 }), base).status,
    "breach",
    "4.5% vs 1% + 2 points",
  );
  assert.equal(
    testMetricWindow(rise, sums({ requests: 2000, errors: 50 }), base).status,
    "ok",
    "2.5% is under 3%",
  );

  const cost = decay({ metric: "costPerCall", direction: "rise", change: 0.2 });
  const costBase = sums({ requests: 1000, costUsd: 10, costSumSquares: 1000 * (0.01 ** 2 + 0.002 ** 2) });
  const dearer = sums({ requests: 1000, costUsd: 15, costSumSquares: 1000 * (0.015 ** 2 + 0.003 ** 2) });
  assert.equal(testMetricWindow(cost, dearer, costBase).status, "breach");
  assert.equal(testMetricWindow(cost, costBase, costBase).status, "ok");

  const score = decay({ metric: "meanScore", change: 0.1 });
  const scoreBase = sums({ scoreCount: 500, scoreSum: 400, scoreSumSquares: 500 * (0.8 ** 2 + 0.1 ** 2) });
  const lower = sums({ scoreCount: 500, scoreSum: 300, scoreSumSquares: 500 * (0.6 ** 2 + 0.1 ** 2) });
  assert.equal(testMetricWindow(score, lower, scoreBase).status, "breach");
});

test("p95 latency: judged as the share of requests slower than the moved baseline p95", () => {
  const hist = (ms: number[]) => {
    const h: number[] = [];
    for (const x of ms) h[latencyBucket(x)] = (h[latencyBucket(x)] ?? 0) + 1;
    return Array.from(h, (x) => x ?? 0);
  };
  const fast = Array.from({ length: 1000 }, (_, i) => 100 + (i % 100));
  const slow = Array.from({ length: 1000 }, (_, i) => 180 + (i % 100));
  const rule = decay({ metric: "latencyP95", direction: "rise", change: 0.2 });
  const base = sums({ requests: 1000, latencyHistogram: hist(fast) });
  const v = testMetricWindow(rule, sums({ requests: 1000, latencyHistogram: hist(slow) }), base);
  assert.equal(v.status, "breach");
  assert.ok(v.value! > 250 && v.baseline! < 210, `${v.value} vs ${v.baseline}`);
  assert.equal(testMetricWindow(rule, base, base).status, "ok");
});

test("drift: PSI over the threshold and significant breaches; the same shift in a tiny window does not", () => {
  const rule: DriftRule = {
    name: "d",
    kind: "drift",
    feature: "tokens_in",
    statistic: "psi",
    threshold: 0.2,
    windows: 3,
    windowHours: 24,
    alpha: 0.05,
    minSample: 100,
  };
  const base = { "0": 100, "64": 500, "128": 300, "256": 100 };
  const shifted = { "64": 150, "128": 350, "256": 350, "512": 150 };
  const v = testDriftWindow(rule, shifted, base);
  assert.equal(v.status, "breach");
  assert.ok(v.value! > 0.2);
  assert.equal(testDriftWindow(rule, base, base).status, "ok");
  const tiny = testDriftWindow({ ...rule, minSample: 5 }, { "64": 1, "256": 3, "512": 2 }, base);
  assert.ok(tiny.value! > 0.2, "the point estimate is over");
  assert.equal(tiny.status, "ok", "but six requests are no evidence");
  assert.match(tiny.reason, /not significantly/);
  assert.equal(testDriftWindow(rule, { "64": 50 }, base).status, "insufficient");
  const ks = testDriftWindow({ ...rule, statistic: "ks", threshold: 0.1 }, shifted, base);
  assert.equal(ks.status, "breach");
});

test("chi-square homogeneity: scipy chi2_contingency (correction=False) on a 2 x 3 table", () => {
  // scipy.stats.chi2_contingency([[10, 20, 30], [15, 15, 20]], correction=False): 2.82857, p 0.243099
  const r = homogeneity([10, 20, 30], [15, 15, 20]);
  assert.ok(Math.abs(r.chiSquare - 2.8285714285714287) < 1e-9, String(r.chiSquare));
  assert.equal(r.df, 2);
  assert.ok(Math.abs(r.p - 0.24309919372964037) < 1e-9, String(r.p));
  // Bins whose expected count is under 5 on either side are pooled: here the last two.
  const pooled = homogeneity([10, 20, 3, 1], [15, 15, 2, 1]);
  assert.equal(pooled.df, 2);
  const same = homogeneity([10, 20, 4], [15, 15, 3]);
  assert.ok(Math.abs(pooled.chiSquare - same.chiSquare) < 1e-12);
  assert.deepEqual(homogeneity([1, 1], [1, 1]), { chiSquare: 0, df: 0, p: 1 }, "nothing to test");
});

test("streak: fires on the n-th consecutive breach, continues, resolves; an untested window breaks the run", () => {
  const rule = { windows: 3 };
  let state: RuleState = INITIAL_STATE;
  const events: (string | null)[] = [];
  const statuses = [
    "breach",
    "breach",
    "insufficient",
    "breach",
    "breach",
    "breach",
    "breach",
    "ok",
  ] as const;
  statuses.forEach((status, i) => {
    const r = advance(rule, state, { status }, `2026-01-0${i + 1}T00:00:00Z`);
    state = r.state;
    events.push(r.event);
  });
  assert.deepEqual(events, [null, null, null, null, null, "fired", "breach_continues", "resolved"]);
  assert.deepEqual(state, { streak: 0, firing: false, lastWindowEnd: "2026-01-08T00:00:00Z" });
});

test("a stable version's windows breach far less often than alpha (seeded simulation, 2,000 windows)", () => {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const binom = (n: number, p: number) => {
    let x = 0;
    for (let i = 0; i < n; i++) if (rand() < p) x++;
    return x;
  };
  const base = sums({ feedbackCount: 7000, successes: binom(7000, 0.8) });
  let breaches = 0;
  for (let w = 0; w < 2000; w++)
    if (
      testMetricWindow(decay(), sums({ feedbackCount: 300, successes: binom(300, 0.8) }), base).status ===
      "breach"
    )
      breaches++;
  assert.ok(breaches / 2000 < 0.01, `${breaches} breaches in 2,000 stable windows`);
  // And the same test catches a real 10-point decay (0.8 -> 0.7) in most windows of 300.
  let caught = 0;
  for (let w = 0; w < 200; w++)
    if (
      testMetricWindow(decay(), sums({ feedbackCount: 300, successes: binom(300, 0.62) }), base).status ===
      "breach"
    )
      caught++;
  assert.ok(caught / 200 > 0.8, `caught ${caught} of 200`);
});

test("the default rules all read", () => {
  const rules = DEFAULT_RULES.map((t) => parseRuleText(t));
  assert.deepEqual(
    rules.map((r) => [r.kind, r.windows]),
    [
      ["metric", 3],
      ["metric", 2],
      ["metric", 3],
      ["drift", 3],
      ["drift", 3],
    ],
  );
});
