import assert from "node:assert/strict";
import { test } from "node:test";
import { decide } from "./decide.ts";
import { judge } from "./judge.ts";
import { latencyBucket } from "./latency.ts";
import { BUILT_IN_PLANS, defaultPlan, demoPlan, validatePlan } from "./plans.ts";
import type { Plan, RolloutState, VersionWindow } from "./types.ts";

test("the default plan: 5 → 25 → 50 → 100%, 24 h each, 1 min interval, the four metrics", () => {
  const p = defaultPlan();
  assert.deepEqual(
    p.steps.map((s) => [s.weight, s.durationMs]),
    [5, 25, 50, 100].map((w) => [w, 86_400_000]),
  );
  assert.equal(p.analysisIntervalMs, 60_000);
  assert.equal(p.minSamplePerArm, 200);
  assert.equal(p.failureLimit, 2);
  assert.deepEqual(p.metrics, [
    { kind: "success_rate", maxRelativeDrop: 0.05 },
    { kind: "error_rate", max: 0.01 },
    { kind: "latency_p95_ms", maxRelativeIncrease: 0.2 },
    { kind: "group_success_gap", maxGapPoints: 5, minGroupSize: 30 },
  ]);
  assert.deepEqual(validatePlan(p), []);
});

test("the demo plan runs in seconds and is valid; built-in plans are fresh copies", () => {
  const p = demoPlan();
  assert.ok(p.steps.reduce((s, x) => s + x.durationMs, 0) <= 15_000);
  assert.ok(p.steps.every((s) => s.maxSamplePerArm === 400 && s.maxDurationMs === 120_000));
  assert.equal(p.analysisIntervalMs, 1_000);
  assert.deepEqual(validatePlan(p), []);
  BUILT_IN_PLANS.default!().steps.pop();
  assert.equal(BUILT_IN_PLANS.default!().steps.length, 4);
});

test("validatePlan names every problem's field", () => {
  const bad = {
    ...defaultPlan(),
    name: " ",
    steps: [
      { weight: 10, durationMs: 1000 },
      { weight: 10, durationMs: 0 },
      { weight: 120, durationMs: 1000 },
    ],
    analysisIntervalMs: 0,
    minSamplePerArm: 1.5,
    failureLimit: 0,
    metrics: [
      { kind: "success_rate", maxRelativeDrop: 1.2 },
      { kind: "success_rate", maxRelativeDrop: 0.05 },
      { kind: "latency_p95_ms" },
      { kind: "group_success_gap", maxGapPoints: 0, minGroupSize: 0 },
      { kind: "error_rate", max: 0.01, alpha: 0.7 },
      { kind: "nope" },
    ],
    fastPath: { windowMs: 1000, minRequests: 0 },
  } as unknown as Plan;
  assert.deepEqual(validatePlan(bad), [
    { field: "name", reason: "must be a non-empty string" },
    { field: "steps[1].weight", reason: "must be greater than the previous step's 10" },
    { field: "steps[1].durationMs", reason: "must be > 0" },
    { field: "steps[2].weight", reason: "must be in (0, 100]" },
    { field: "analysisIntervalMs", reason: "must be > 0" },
    { field: "minSamplePerArm", reason: "must be an integer >= 2" },
    { field: "failureLimit", reason: "must be an integer >= 1" },
    { field: "metrics[0].maxRelativeDrop", reason: "must be in (0, 1), e.g. 0.05 for 5% relative" },
    { field: "metrics[1].kind", reason: "success_rate is listed twice" },
    { field: "metrics[2]", reason: "needs max, maxRelativeIncrease or both" },
    { field: "metrics[3].maxGapPoints", reason: "must be in (0, 100] percentage points" },
    { field: "metrics[3].minGroupSize", reason: "must be an integer >= 1" },
    { field: "metrics[4].alpha", reason: "must be in (0, 0.5)" },
    {
      field: "metrics[5].kind",
      reason:
        "must be one of success_rate, score_mean, error_rate, latency_p95_ms, cost_per_request_usd, group_success_gap, agreement",
    },
    { field: "fastPath.minRequests", reason: "must be an integer >= 1" },
  ]);
  assert.deepEqual(validatePlan({ ...defaultPlan(), steps: [] }), [
    { field: "steps", reason: "must list at least one step" },
  ]);
});

type Rates = { errorRate: number; eu: number; us: number; apac?: number };

/**
 * The arm's window after `requests` at the given rates: regions with their own success rates,
 * in equal shares (eu and us; apac too when it has a rate, as `modelgov demo rollout` sends).
 */
function window(requests: number, rates: Rates): VersionWindow {
  const regions = Object.entries({ eu: rates.eu, us: rates.us, apac: rates.apac }).filter(
    (e): e is [string, number] => e[1] !== undefined,
  );
  const each = Math.floor(requests / regions.length);
  const groups = Object.fromEntries(
    regions.map(([name, rate]) => [name, { successes: Math.round(each * rate), n: each }]),
  );
  const n = each * regions.length;
  return {
    requests: n,
    errors: Math.round(requests * rates.errorRate),
    feedbackCount: n,
    successes: Object.values(groups).reduce((sum, g) => sum + g.successes, 0),
    latencyP95Ms: 250,
    costUsd: requests * 0.001,
    latencyHistogram: Object.assign(Array(latencyBucket(250)).fill(0), { [latencyBucket(250)]: requests }),
    groups: { region: groups },
  };
}

/** Runs the demo plan on a steady `rps` with one analysis a second, until a terminal action. */
function run(
  rps: number,
  candidate: Rates,
  maxSeconds = 60,
  baseline: Rates = { errorRate: 0.005, eu: 0.8, us: 0.8 },
) {
  const plan = demoPlan();
  let s: RolloutState = { plan, stepIndex: 0, stepStartedAt: 0, consecutiveFailures: 0 };
  const actions: string[] = [];
  for (let t = 1; t <= maxSeconds; t++) {
    const step = plan.steps[s.stepIndex]!;
    const elapsed = (t * 1000 - s.stepStartedAt) / 1000;
    const candN = Math.floor((rps * elapsed * step.weight) / 100);
    // At 100% the reference is the baseline's window of the same length from before the step.
    const baseN = step.weight === 100 ? Math.floor(rps * elapsed) : Math.floor(rps * elapsed) - candN;
    const j = judge(plan, window(baseN, baseline), window(candN, candidate), { stepIndex: s.stepIndex });
    const d = decide(s, j, t * 1000);
    actions.push(d.action);
    if (d.action === "promote" || d.action === "rollback" || d.action === "paused")
      return { actions, decision: d, seconds: t };
    s = { plan, ...d.next };
  }
  return { actions, decision: null, seconds: maxSeconds };
}

test("simulated demo: a healthy candidate passes every step and promotes", () => {
  const r = run(200, { errorRate: 0.005, eu: 0.8, us: 0.8 });
  assert.equal(r.decision?.action, "promote");
  assert.equal(r.actions.filter((a) => a === "advance").length, 3);
  assert.ok(r.seconds <= 20, `took ${r.seconds} s`);
});

test("simulated demo: a candidate worse for one group rolls back by itself at the first step", () => {
  const r = run(200, { errorRate: 0.005, eu: 0.8, us: 0.3 });
  assert.equal(r.decision?.action, "rollback");
  assert.equal(r.actions.includes("advance"), false);
  assert.match(r.decision!.reasons.join(" "), /group success gap: region: gap 50 points/);
});

test("simulated demo: too little traffic holds the first step, never advances, and pauses at its maximum", () => {
  const r = run(2, { errorRate: 0.005, eu: 0.8, us: 0.8 }, 130);
  assert.equal(r.decision?.action, "paused");
  assert.equal(r.seconds, 120);
  assert.deepEqual(r.actions.slice(0, 5), ["hold", "hold", "hold", "hold", "hold"]);
  assert.equal(r.actions.includes("advance"), false);
  assert.match(
    r.decision!.reasons[0]!,
    /too little data to judge at the maximum of 2 min; paused for a person/,
  );
});

test("simulated demo: the demo's degraded candidate never advances at any traffic rate; slow traffic pauses it instead", () => {
  // As `modelgov demo rollout` sends it: three regions, apac at 45% against 92% (baseline 90%).
  const degraded = { errorRate: 0.002, eu: 0.92, us: 0.92, apac: 0.45 };
  const baseline = { errorRate: 0.002, eu: 0.9, us: 0.9, apac: 0.9 };
  const outcomes = [3, 5, 10, 20, 50, 100, 200, 400, 1000].map((rps) => {
    const r = run(rps, degraded, 300, baseline);
    assert.equal(r.actions.includes("advance"), false, `${rps} req/s: ${r.decision?.reasons[0]}`);
    assert.equal(r.actions.includes("promote"), false, `${rps} req/s`);
    return `${rps}:${r.decision?.action}`;
  });
  // Fast enough to gather the gap's evidence within the step's 2 minutes: rolled back by itself.
  assert.deepEqual(outcomes, [
    "3:paused",
    "5:paused",
    "10:paused",
    "20:rollback",
    "50:rollback",
    "100:rollback",
    "200:rollback",
    "400:rollback",
    "1000:rollback",
  ]);
  // What a step of the old plan did (advance on inconclusive at 15 s, whatever the sample): at
  // 50 req/s the candidate moved on to 25% with the gap still unproven.
  const oldPlan = demoPlan();
  oldPlan.steps = oldPlan.steps.map((s) => ({
    weight: s.weight,
    durationMs: s.durationMs,
    maxDurationMs: 15_000,
  }));
  let s: RolloutState = { plan: oldPlan, stepIndex: 0, stepStartedAt: 0, consecutiveFailures: 0 };
  let first = "";
  for (let t = 1; t <= 20 && !first; t++) {
    const candN = Math.floor((50 * t * 10) / 100);
    const d = decide(s, judge(oldPlan, window(50 * t - candN, baseline), window(candN, degraded)), t * 1000);
    if (d.action !== "hold") first = d.action;
    s = { plan: oldPlan, ...d.next };
  }
  assert.equal(first, "advance");
});
