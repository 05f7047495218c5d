// Reference values: scipy 1.17, computed by hand in Python from the same counts: pooled z and
// stats.norm.sf; delta-method relative lift with Welch df and stats.t.ppf; the mSPRT likelihood
// ratio with tau^2 = r V_h (r from brentq on r = 2 ln 20 + ln(1 + r)); chance to beat by
// integrate.quad of beta.pdf × beta.cdf; SRM by stats.chi2.sf.
import assert from "node:assert/strict";
import { test } from "node:test";
import { near } from "../../test-support/approx.ts";
import { histogramQuantile, latencyBucket } from "../rollout/index.ts";
import { alwaysValidTest, frequentistLift, twoProportionZTest } from "../stats/index.ts";
import { experimentResults } from "./results.ts";
import type { ArmInput, ExperimentInput } from "./types.ts";

function arm(name: string, successes: number, n: number, patch: Partial<ArmInput> = {}): ArmInput {
  return {
    name,
    version: `ver_${name.toLowerCase()}`,
    weight: 50,
    units: n,
    requests: n,
    errors: Math.round(n * 0.005),
    feedbackCount: n,
    successes,
    costUsd: n * 0.001,
    latencyP95Ms: 400,
    ...patch,
  };
}

function input(arms: ArmInput[], patch: Partial<ExperimentInput> = {}): ExperimentInput {
  return { arms, primary: "success_rate", plan: { samplePerArm: 10_000, baselineRate: 0.08 }, ...patch };
}

test("8.2% vs 9.4%: every statistic pinned; fixed-horizon significant, always-valid not: keep running", () => {
  const A = arm("A", 412, 5030);
  const B = arm("B", 468, 4987);
  // At the planned horizon (5,000 per arm) the fixed-horizon p and interval are shown.
  const r = experimentResults(input([A, B], { plan: { samplePerArm: 4987, baselineRate: 0.08 } }));
  const [c] = r.primary;
  assert.ok(c);
  assert.equal(r.horizon.reached, true);
  near(c.pValue, 0.03486440320980826, 1e-8, "z p");
  assert.equal(
    c.pValue,
    twoProportionZTest({ successes: 468, n: 4987 }, { successes: 412, n: 5030 }).pTwoSided,
  );
  near(c.lift!.estimate, 0.14571672756935028, 1e-10, "lift");
  near(c.lift!.ci[0], 0.0007844353794781156, 1e-6, "lift lo");
  near(c.lift!.ci[1], 0.2906490197592224, 1e-8, "lift hi");
  assert.equal(c.lift!.ciKind, "fixed_horizon");
  assert.deepEqual(c.lift!.ci, frequentistLift({ successes: 412, n: 5030 }, { successes: 468, n: 4987 }).ci);
  // Before the horizon (10,000 planned) the fixed p is withheld and the interval is the always-valid one.
  const early = experimentResults(input([A, B])).primary[0]!;
  assert.equal(early.pValue, null);
  assert.equal(early.lift!.ciKind, "always_valid");
  const k = (early.sequential!.ci[1] - early.sequential!.ci[0]) / (2 * early.sequential!.se);
  near(early.lift!.ci[0], early.lift!.estimate - k * early.lift!.se, 1e-12, "always-valid lift lo");
  assert.ok(early.lift!.ci[0] < 0, "the always-valid interval still covers no change");
  const e = experimentResults(input([A, B]));
  const s = e.primary[0]!;
  near(s.sequential!.mixingVariance, 0.00012088016987364921, 1e-9, "tau2");
  near(s.sequential!.pValue, 0.37610535808606665, 1e-8, "always-valid p");
  near(s.sequential!.ci[0], -0.005551593345784332, 1e-8, "seq lo");
  near(s.sequential!.ci[1], 0.029422484701081462, 1e-8, "seq hi");
  near(s.chanceToBeatControl, 0.9825441692629934, 1e-8, "chance to beat");
  assert.equal(s.adjustedP, s.sequential!.pValue);
  assert.equal(s.significant, false);
  near(e.srm.chiSquare, 0.184586203454128, 1e-9, "srm chi");
  near(e.srm.p, 0.6674611981572615, 1e-8, "srm p");
  assert.equal(e.srm.unit, "units");
  assert.equal(e.horizon.reached, false);
  assert.match(
    e.horizon.note,
    /fixed-horizon p-values are shown from the planned 10,000 per arm on \(4,987 now\)/,
  );
  assert.equal(e.recommendation.decision, "keep_running");
  assert.equal(
    e.recommendation.reasons[0],
    "no significant difference yet; 4,987 of the 10,000 planned per arm",
  );
  assert.match(
    e.recommendation.reasons[1]!,
    /^B vs A on success rate: \+14\.6% relative \(95% CI -\d+\.\d% to \+\d+\.\d%\), always-valid p = 0\.376, chance to beat A 98\.3%$/,
  );
});

test("per-arm counts, rates and cost per successful outcome", () => {
  const r = experimentResults(
    input([arm("A", 800, 10_000, { feedbackCount: 5000, successes: 400 }), arm("B", 0, 10)]),
  );
  const [a, b] = r.arms;
  assert.deepEqual(
    [a!.weight, a!.successRate, a!.errorRate, a!.costPerRequestUsd, a!.scoreMean],
    [0.5, 0.08, 0.005, 0.001, null],
  );
  // $0.001 a request at 8% success: $0.0125 per successful outcome, though feedback covers half the requests.
  near(a!.costPerSuccessUsd, 0.0125, 1e-12, "cost per success");
  assert.equal(b!.costPerSuccessUsd, null);
});

test("B at 9.6% vs 8.0% on 10,000 each ships B, with the reasons in numbers", () => {
  const r = experimentResults(input([arm("A", 800, 10_000), arm("B", 960, 10_000, { costUsd: 11 })]));
  near(r.primary[0]!.sequential!.pValue, 0.002544595767539793, 1e-7, "always-valid p");
  near(r.primary[0]!.lift!.ci[0], 0.09242730760582767, 1e-8, "lift lo");
  assert.equal(r.primary[0]!.direction, "better");
  assert.deepEqual(r.recommendation, {
    decision: "ship",
    arm: "B",
    reasons: [
      "B beats A on success rate: +20.0% relative (95% CI +9.2% to +30.8%), always-valid p = 0.003, chance to beat A 100.0%",
      "no guardrails set",
      "SRM p = 1.000",
      "cost per successful outcome $0.01146 vs $0.0125 (-8.3%)",
    ],
  });
});

test("a winner costing more per success than allowed is not shipped: keep the control", () => {
  const r = experimentResults(
    input([arm("A", 800, 10_000), arm("B", 960, 10_000, { costUsd: 20 })], { maxCostIncrease: 0.2 }),
  );
  assert.equal(r.recommendation.decision, "ship");
  assert.equal(r.recommendation.arm, "A");
  assert.match(
    r.recommendation.reasons[1]!,
    /cost per successful outcome \$0\.02083 vs \$0\.0125 \(\+66\.7%\) is above the \+20% allowed; keep A/,
  );
});

test("a significantly worse treatment ships the control", () => {
  const r = experimentResults(input([arm("A", 800, 10_000), arm("B", 680, 10_000)]));
  near(r.primary[0]!.sequential!.pValue, 0.027905601528418762, 1e-7, "always-valid p");
  assert.equal(r.primary[0]!.direction, "worse");
  assert.deepEqual([r.recommendation.decision, r.recommendation.arm], ["ship", "A"]);
  assert.match(r.recommendation.reasons[0]!, /^B is worse than A on success rate: -15\.0% relative/);
});

test("at the planned horizon without a winner: no difference, the cheapest arm named", () => {
  const r = experimentResults(input([arm("A", 800, 10_000), arm("B", 805, 10_000, { costUsd: 9 })]));
  assert.equal(r.primary[0]!.sequential!.pValue, 1);
  assert.equal(r.recommendation.decision, "no_difference");
  assert.equal(r.recommendation.arm, "B");
  assert.match(
    r.recommendation.reasons.join(" | "),
    /B is the cheapest per successful outcome: cost per successful outcome \$0\.01118 vs \$0\.0125 \(-10\.6%\)/,
  );
});

test("a guardrail breach stops the experiment at once, even while B is winning and before the minimum", () => {
  const B = arm("B", 960, 10_000, { errors: 300 });
  const guardrails = [{ metric: "error_rate", max: 0.02 } as const];
  const r = experimentResults(
    input([arm("A", 800, 10_000), B], { guardrails, minDurationMs: 86_400_000, elapsedMs: 60_000 }),
  );
  assert.equal(r.guardrails[0]!.status, "breached");
  assert.deepEqual([r.recommendation.decision, r.recommendation.arm], ["stopped_by_guardrail", "B"]);
  assert.match(
    r.recommendation.reasons[0]!,
    /stop the experiment: B: error rate 3\.00% \(300 of 10,000\) vs 0\.50% baseline: above the 2\.00% guard and above the baseline \(sequential likelihood ratios/,
  );
});

test("an error rate above the guardrail, not yet shown by the sequential test, is at risk, not a stop", () => {
  const B = arm("B", 96, 1000, { errors: 25 });
  const at = experimentResults(
    input([arm("A", 80, 1000), B], { guardrails: [{ metric: "error_rate", max: 0.02 }] }),
  );
  assert.equal(at.guardrails[0]!.status, "at_risk");
  assert.match(at.guardrails[0]!.reason, /above the 2\.00% guard, not yet shown/);
  assert.notEqual(at.recommendation.decision, "stopped_by_guardrail");
  // A control failing as often is no reason to stop the treatment.
  const both = experimentResults(
    input([arm("A", 80, 10_000, { errors: 300 }), arm("B", 96, 10_000, { errors: 300 })], {
      guardrails: [{ metric: "error_rate", max: 0.02 }],
    }),
  );
  assert.notEqual(both.guardrails[0]!.status, "breached");
});

/** 95% of the requests at `fast` ms, 5% at `slow` ms. */
function hist(n: number, fast: number, slow: number): number[] {
  const h: number[] = [];
  const add = (ms: number, c: number) => {
    const b = latencyBucket(ms);
    for (let i = h.length; i <= b; i++) h[i] = 0;
    h[b]! += c;
  };
  add(fast, Math.round(0.9 * n));
  add(slow, n - Math.round(0.9 * n));
  return h;
}

test("latency guardrail relative to the control: a tenth of B's requests far above A's p95 x 1.2 is a breach", () => {
  const guardrails = [{ metric: "latency_p95_ms", maxRelativeIncrease: 0.2 } as const];
  const A = arm("A", 800, 10_000, { latencyHistogram: hist(10_000, 300, 400) });
  const B = arm("B", 800, 10_000, { latencyHistogram: hist(10_000, 300, 900) });
  const r = experimentResults(input([A, B], { guardrails }));
  const g = r.guardrails[0]!;
  assert.equal(g.status, "breached");
  const upper = 0.95 + 1.96 * Math.sqrt((0.95 * 0.05) / 10_000);
  near(g.limit, 1.2 * histogramQuantile(A.latencyHistogram!, upper)!, 1e-12, "limit");
  assert.match(
    g.reason,
    /^B: p95 latency .*10\.0% of requests slower than .* more than 5%, so the p95 is above it/,
  );
  assert.equal(r.recommendation.decision, "stopped_by_guardrail");
  // Without histograms there is nothing to test: insufficient data, never a stop on a point value.
  const none = experimentResults(
    input([arm("A", 800, 10_000), arm("B", 800, 10_000, { latencyP95Ms: 900 })], { guardrails }),
  );
  assert.equal(none.guardrails[0]!.status, "insufficient_data");
});

test("a skewed split is caught by the SRM check: untrustworthy, no ship even with a winner", () => {
  const r = experimentResults(
    input([arm("A", 800, 10_000, { units: 5400 }), arm("B", 960, 10_000, { units: 4600 })]),
  );
  assert.equal(r.srm.status, "mismatch");
  near(r.srm.p, 1.2441921148543578e-15, 1e-6, "srm p");
  assert.equal(r.trustworthy, false);
  assert.equal(r.recommendation.decision, "sample_ratio_mismatch");
  assert.equal(r.recommendation.arm, null);
  assert.match(
    r.recommendation.reasons[0]!,
    /units A 5,400 \(expected 5,000\), B 4,600 \(expected 5,000\); chi-square 64, p = 1\.2e-15 < 0\.001/,
  );
});

test("below the minimum sample or duration the recommendation is keep running", () => {
  const r = experimentResults(input([arm("A", 8, 99), arm("B", 50, 100)]));
  assert.equal(r.minimumMet, false);
  assert.equal(r.recommendation.decision, "keep_running");
  assert.equal(r.recommendation.reasons[0], "A has 99 of the 100 observations per arm needed");
  const d = experimentResults(
    input([arm("A", 800, 10_000), arm("B", 960, 10_000)], {
      minDurationMs: 7 * 86_400_000,
      elapsedMs: 3_600_000,
    }),
  );
  assert.equal(d.recommendation.decision, "keep_running");
  assert.equal(d.recommendation.reasons[0], "running for 1 h of the 168 h minimum");
});

test("zero traffic: no crash, SRM insufficient, statistics null with a note", () => {
  const r = experimentResults(input([arm("A", 0, 0), arm("B", 0, 0)]));
  assert.equal(r.srm.status, "insufficient_data");
  assert.equal(r.primary[0]!.sequential, null);
  assert.equal(r.primary[0]!.note, "fewer than 2 observations in an arm");
  assert.equal(r.recommendation.decision, "keep_running");
});

test("the previous look carries the running always-valid p and interval", () => {
  const first = experimentResults(input([arm("A", 800, 10_000), arm("B", 960, 10_000)]));
  const prev = first.primary[0]!.sequential!;
  const second = experimentResults(
    input([arm("A", 850, 11_000), arm("B", 900, 11_000)], { previousLooks: { B: prev } }),
  );
  const s = second.primary[0]!.sequential!;
  const direct = alwaysValidTest(
    { successes: 850, n: 11_000 },
    { successes: 900, n: 11_000 },
    { mixingVariance: prev.mixingVariance, previous: prev },
  );
  assert.deepEqual(s, direct);
  assert.equal(s.looks, 2);
  assert.equal(s.pValue, prev.pValue);
  assert.equal(second.recommendation.decision, "ship");
});

test("malformed input is refused with the field named", () => {
  assert.throws(() => experimentResults(input([arm("A", 1, 10)])), /arms must list at least two arms/);
  assert.throws(
    () => experimentResults(input([arm("A", 1, 10), arm("B", 1, 10, { errors: 11 })])),
    /arms\[1\]\.errors must not exceed arms\[1\]\.requests/,
  );
  assert.throws(
    () => experimentResults(input([arm("A", 1, 10), arm("A", 1, 10)])),
    /arms\[1\]\.name "A" is used twice/,
  );
  assert.throws(
    () => experimentResults(input([arm("A", 1, 10), arm("B", 1, 10)], { primary: "score_mean" })),
    /plan\.scoreVariance/,
  );
});
