import assert from "node:assert/strict";
import { test } from "node:test";
import { judge } from "./judge.ts";
import { latencyBucket } from "./latency.ts";
import { defaultPlan } from "./plans.ts";
import type { VersionWindow } from "./types.ts";

/** A window with the given requests, 0.5% errors, 80% success on all of them, two even regions. */
function healthy(requests: number, p = 0.8): VersionWindow {
  const half = requests / 2;
  const s = Math.round(half * p);
  return {
    requests,
    errors: Math.floor(requests * 0.005),
    feedbackCount: requests,
    successes: 2 * s,
    latencyP95Ms: 300,
    costUsd: requests * 0.001,
    latencyHistogram: histogram(requests),
    groups: { region: { eu: { successes: s, n: half }, us: { successes: s, n: half } } },
  };
}

/** 95% of the requests at 200 ms, 5% at 300 ms. */
function histogram(requests: number): number[] {
  const h: number[] = [];
  const add = (ms: number, c: number) => {
    const b = latencyBucket(ms);
    for (let i = h.length; i <= b; i++) h[i] = 0;
    h[b]! += c;
  };
  add(200, Math.round(requests * 0.95));
  add(300, requests - Math.round(requests * 0.95));
  return h;
}

test("a healthy candidate passes every metric of the default plan", () => {
  const j = judge(defaultPlan(), healthy(2000), healthy(1000));
  assert.equal(j.verdict, "pass");
  assert.deepEqual(
    j.metrics.map((m) => [m.metric, m.status]),
    [
      ["success_rate", "pass"],
      ["error_rate", "pass"],
      ["latency_p95_ms", "pass"],
      ["group_success_gap", "pass"],
    ],
  );
  assert.deepEqual(j.reasons, ["all 4 metrics pass"]);
  assert.equal(j.minSamplePerArm, 200);
});

test("below the step's minimum sample the verdict is insufficient_data, even with every metric fine", () => {
  const plan = defaultPlan();
  plan.metrics = plan.metrics.map((m) => ({ ...m, minSample: 10 }));
  const j = judge(plan, healthy(2000), healthy(150));
  assert.ok(j.metrics.every((m) => m.status === "pass"));
  assert.equal(j.verdict, "insufficient_data");
  assert.match(j.reasons[0]!, /150 candidate and 2,000 baseline requests; the step needs 200 per arm/);
});

test("zero requests on both arms is insufficient_data, not an error", () => {
  const empty: VersionWindow = {
    requests: 0,
    errors: 0,
    feedbackCount: 0,
    successes: 0,
    latencyP95Ms: null,
    costUsd: 0,
  };
  const j = judge(defaultPlan(), empty, empty);
  assert.equal(j.verdict, "insufficient_data");
  assert.ok(j.metrics.every((m) => m.status === "insufficient_data"));
});

test("a step's own minimum overrides the plan's", () => {
  const plan = defaultPlan();
  plan.steps[1] = { ...plan.steps[1]!, minSamplePerArm: 5000 };
  assert.equal(judge(plan, healthy(2000), healthy(1000), { stepIndex: 0 }).verdict, "pass");
  const j = judge(plan, healthy(2000), healthy(1000), { stepIndex: 1 });
  assert.equal(j.verdict, "insufficient_data");
  assert.equal(j.minSamplePerArm, 5000);
  assert.throws(() => judge(plan, healthy(10), healthy(10), { stepIndex: 4 }), /stepIndex 4 is not a step/);
});

test("a group degraded by 20 points fails the gap metric while overall success still passes", () => {
  const cand = healthy(2500);
  // eu keeps 80% on 2250 rows; us drops to 60% on 250: overall 78.0% against 80%.
  cand.groups = { region: { eu: { successes: 1800, n: 2250 }, us: { successes: 150, n: 250 } } };
  cand.feedbackCount = 2500;
  cand.successes = 1950;
  const j = judge(defaultPlan(), healthy(5000), cand);
  const status = Object.fromEntries(j.metrics.map((m) => [m.metric, m.status]));
  assert.equal(status.success_rate, "pass");
  assert.equal(status.group_success_gap, "fail");
  assert.equal(j.verdict, "fail");
  assert.equal(j.reasons.length, 1);
  assert.match(j.reasons[0]!, /^group success gap: region: gap 20 points/);
});

test("an inconclusive metric makes the verdict inconclusive; a failure wins over missing data", () => {
  const plan = defaultPlan();
  const cand = healthy(1000);
  cand.errors = 14; // 1.4% of 1000: above 1%, exact p = 0.13
  assert.equal(judge(plan, healthy(2000), cand).verdict, "inconclusive");
  cand.errors = 30;
  cand.groups = {};
  const j = judge(plan, healthy(2000), cand);
  assert.equal(j.metrics.find((m) => m.metric === "group_success_gap")!.status, "insufficient_data");
  assert.equal(j.verdict, "fail");
});

test("invalid windows are rejected with the field named", () => {
  const bad = { ...healthy(100), errors: 101 };
  assert.throws(
    () => judge(defaultPlan(), healthy(100), bad),
    /candidate\.errors must not exceed candidate\.requests/,
  );
  const neg = { ...healthy(100), costUsd: -1 };
  assert.throws(
    () => judge(defaultPlan(), neg, healthy(100)),
    /baseline\.costUsd must be a finite number >= 0/,
  );
  const g = healthy(100);
  g.groups = { region: { eu: { successes: 60, n: 50 } } };
  assert.throws(
    () => judge(defaultPlan(), healthy(100), g),
    /candidate\.groups\.region\.eu\.successes must not exceed/,
  );
});
