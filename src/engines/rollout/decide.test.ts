import assert from "node:assert/strict";
import { test } from "node:test";
import { decide, fastPath } from "./decide.ts";
import { defaultPlan, demoPlan } from "./plans.ts";
import type { Judgement, MetricResult, RolloutState, StepVerdict } from "./types.ts";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);

function state(patch: Partial<RolloutState> = {}): RolloutState {
  return { plan: defaultPlan(), stepIndex: 0, stepStartedAt: T0, consecutiveFailures: 0, ...patch };
}

function verdict(v: StepVerdict, failing: Partial<MetricResult> = {}): Judgement {
  const metrics: MetricResult[] =
    v === "fail"
      ? [
          {
            metric: "success_rate",
            status: "fail",
            immediateRollback: false,
            numbers: {},
            reason: "worse",
            ...failing,
          },
        ]
      : [];
  return { verdict: v, stepIndex: 0, minSamplePerArm: 200, metrics, reasons: [`verdict ${v}`] };
}

test("a pass before the step's 24 h have elapsed holds at the step's weight", () => {
  const d = decide(state(), verdict("pass"), T0 + 3 * HOUR);
  assert.equal(d.action, "hold");
  assert.equal(d.weight, 5);
  assert.deepEqual(d.reasons, ["step 1 of 4 (5%): 3 h of 24 h elapsed; verdict pass"]);
});

test("a pass after the duration advances to the next step and restarts its clock", () => {
  const now = T0 + 24 * HOUR;
  const d = decide(state({ consecutiveFailures: 1 }), verdict("pass"), now);
  assert.equal(d.action, "advance");
  assert.equal(d.weight, 25);
  assert.deepEqual(d.next, {
    stepIndex: 1,
    stepStartedAt: now,
    consecutiveFailures: 0,
    paused: false,
    gateApproved: false,
  });
});

test("too little data holds the step after its duration, never advances it (even on advanceOnInconclusive)", () => {
  const plan = { ...defaultPlan(), advanceOnInconclusive: true };
  const d = decide(state({ plan }), verdict("insufficient_data"), T0 + 100 * HOUR);
  assert.equal(d.action, "hold");
  assert.equal(d.next.stepIndex, 0);
  assert.match(d.reasons[0]!, /too little data to judge; holding/);
});

test("inconclusive holds by default and advances when the plan allows it", () => {
  const late = T0 + 25 * HOUR;
  assert.equal(decide(state(), verdict("inconclusive"), late).action, "hold");
  const plan = { ...defaultPlan(), advanceOnInconclusive: true };
  assert.equal(decide(state({ plan }), verdict("inconclusive"), late).action, "advance");
});

test("consecutive failures hold until they reach the limit of 2, then roll back to weight 0", () => {
  const first = decide(state(), verdict("fail"), T0 + HOUR);
  assert.equal(first.action, "hold");
  assert.equal(first.next.consecutiveFailures, 1);
  assert.match(first.reasons[0]!, /failed analysis 1 in a row \(rollback at 2\)/);
  const second = decide(
    state({ consecutiveFailures: first.next.consecutiveFailures }),
    verdict("fail"),
    T0 + HOUR,
  );
  assert.equal(second.action, "rollback");
  assert.equal(second.weight, 0);
  assert.deepEqual(second.reasons, [
    "step 1 of 4 (5%): 2 failed analyses in a row reach the limit of 2",
    "worse",
  ]);
});

test("a pass between two failures resets the count", () => {
  const after = decide(state({ consecutiveFailures: 1 }), verdict("pass"), T0 + HOUR);
  assert.equal(after.next.consecutiveFailures, 0);
  assert.equal(decide(state({ consecutiveFailures: 0 }), verdict("fail"), T0 + HOUR).action, "hold");
});

test("an error-rate breach rolls back at the first failure", () => {
  const j = verdict("fail", { metric: "error_rate", immediateRollback: true, reason: "error rate 2.50%" });
  const d = decide(state(), j, T0 + HOUR);
  assert.equal(d.action, "rollback");
  assert.equal(d.weight, 0);
  assert.match(d.reasons[0]!, /error_rate breached an absolute guard; rolling back at once/);
});

test("a manual gate pauses a passed step until a promote approves it", () => {
  const plan = defaultPlan();
  plan.steps[1] = { ...plan.steps[1]!, pause: true };
  const at = { plan, stepIndex: 1 };
  const early = decide(state(at), verdict("pass"), T0 + HOUR);
  assert.equal(early.action, "hold");
  const gate = decide(state(at), verdict("pass"), T0 + 24 * HOUR);
  assert.equal(gate.action, "paused");
  assert.equal(gate.weight, 25);
  assert.match(gate.reasons[0]!, /waiting at a manual gate/);
  const approved = decide(state({ ...at, gateApproved: true }), verdict("pass"), T0 + 24 * HOUR);
  assert.equal(approved.action, "advance");
  assert.equal(approved.next.gateApproved, false);
});

test("an operator's pause pauses, but a failure still rolls back", () => {
  assert.equal(decide(state({ paused: true }), verdict("pass"), T0 + 30 * HOUR).action, "paused");
  const j = verdict("fail", { metric: "error_rate", immediateRollback: true });
  assert.equal(decide(state({ paused: true }), j, T0 + HOUR).action, "rollback");
});

test("the last step promotes to 100% once it has passed", () => {
  const d = decide(state({ stepIndex: 3 }), verdict("pass"), T0 + 24 * HOUR);
  assert.equal(d.action, "promote");
  assert.equal(d.weight, 100);
  assert.match(d.reasons[0]!, /step 4 of 4 \(100%\): passed; last step, promoting/);
});

test("fast path: an open breaker or a short-window error rate above the guard rolls back now", () => {
  const plan = defaultPlan();
  assert.equal(fastPath({ requests: 0, errors: 0, breaker: "open" }, plan).rollback, true);
  const bad = fastPath({ requests: 60, errors: 6 }, plan);
  assert.equal(bad.rollback, true);
  assert.equal(bad.errorRate, 0.1);
  assert.equal(
    bad.reason,
    "error rate 10.00% (6 of 60 requests) over the last 10 s is above the 1.00% guard",
  );
  const few = fastPath({ requests: 49, errors: 49 }, plan);
  assert.equal(few.rollback, false);
  assert.match(few.reason, /below the 50 the fast path needs/);
  assert.equal(fastPath({ requests: 200, errors: 2, breaker: "half_open" }, plan).rollback, false);
  assert.equal(fastPath({ requests: 200, errors: 3 }, plan).rollback, true);
});

test("fast path: its own limit overrides the error_rate metric's; no guard at all never rolls back on errors", () => {
  const plan = { ...demoPlan(), fastPath: { windowMs: 2000, minRequests: 20, maxErrorRate: 0.5 } };
  assert.equal(fastPath({ requests: 20, errors: 9 }, plan).rollback, false);
  assert.equal(fastPath({ requests: 20, errors: 11 }, plan).rollback, true);
  const none = { ...defaultPlan(), metrics: [{ kind: "success_rate" as const, maxRelativeDrop: 0.05 }] };
  const r = fastPath({ requests: 100, errors: 100 }, none);
  assert.deepEqual([r.rollback, r.reason], [false, "no error-rate guard"]);
});
