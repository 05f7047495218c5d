import assert from "node:assert/strict";
import { test } from "node:test";
import { mixtureLR } from "../../test-support/sprt-by-hand.ts";
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
  return {
    verdict: v,
    stepIndex: 0,
    minSamplePerArm: 200,
    alpha: 0.04,
    samples: { baseline: 5000, candidate: 300 },
    metrics,
    reasons: [`verdict ${v}`],
  };
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

test("too little data or an inconclusive verdict holds past the duration, up to twice it, then pauses by default", () => {
  for (const v of ["insufficient_data", "inconclusive"] as const) {
    const held = decide(state(), verdict(v), T0 + 30 * HOUR);
    assert.equal(held.action, "hold");
    assert.equal(held.next.stepIndex, 0);
    assert.match(held.reasons[0]!, /holding for more data \(up to 48 h\)/);
    const paused = decide(state(), verdict(v), T0 + 48 * HOUR);
    assert.equal(paused.action, "paused");
    assert.equal(paused.weight, 5);
    assert.match(paused.reasons[0]!, /still .* at the maximum of 48 h; paused for a person to decide/);
  }
});

test("at the maximum, onInconclusive says what happens: advance, pause or roll back (old plans: advanceOnInconclusive)", () => {
  const late = T0 + 48 * HOUR;
  const act = (plan: RolloutState["plan"]) => decide(state({ plan }), verdict("inconclusive"), late).action;
  assert.equal(act({ ...defaultPlan(), onInconclusive: "advance" }), "advance");
  assert.equal(act({ ...defaultPlan(), onInconclusive: "rollback" }), "rollback");
  assert.equal(act({ ...defaultPlan(), onInconclusive: "pause" }), "paused");
  assert.equal(act({ ...defaultPlan(), onInconclusive: undefined, advanceOnInconclusive: true }), "advance");
  // Before the maximum, no plan advances an inconclusive step.
  const early = decide(
    state({ plan: { ...defaultPlan(), onInconclusive: "advance" } }),
    verdict("inconclusive"),
    T0 + 25 * HOUR,
  );
  assert.equal(early.action, "hold");
});

test("a step's maximum sample per arm ends the wait before its maximum duration", () => {
  const plan = { ...defaultPlan(), maxSamplePerArm: 300 };
  const d = decide(state({ plan }), verdict("inconclusive"), T0 + 25 * HOUR);
  assert.equal(d.action, "paused");
  assert.match(d.reasons[0]!, /at the maximum sample of 300 per arm/);
  const short = { ...defaultPlan(), maxSamplePerArm: 301 };
  assert.equal(decide(state({ plan: short }), verdict("inconclusive"), T0 + 25 * HOUR).action, "hold");
  // Its own maxDurationMs overrides twice the duration.
  const own = defaultPlan();
  own.steps[0] = { ...own.steps[0]!, maxDurationMs: 30 * HOUR };
  assert.equal(decide(state({ plan: own }), verdict("insufficient_data"), T0 + 30 * HOUR).action, "paused");
});

test("a plan that advances on inconclusive at its maximum sample pauses when time runs out short of it", () => {
  const plan = { ...defaultPlan(), onInconclusive: "advance" as const, maxSamplePerArm: 301 };
  // 300 candidate requests at the 48 h maximum: the sample the plan advances on is not there.
  const d = decide(state({ plan }), verdict("inconclusive"), T0 + 48 * HOUR);
  assert.equal(d.action, "paused");
  assert.equal(d.weight, 5);
  assert.match(
    d.reasons[0]!,
    /still inconclusive at the maximum of 2 days?|still inconclusive at the maximum of 48 h, short of the 301 requests per arm the plan advances on \(300 candidate, 5,000 baseline\)/,
  );
  // At the sample it advances, before the maximum duration too.
  const enough = { ...plan, maxSamplePerArm: 300 };
  assert.equal(decide(state({ plan: enough }), verdict("inconclusive"), T0 + 25 * HOUR).action, "advance");
  // Without a maximum sample, the maximum duration alone still advances it (time-boxed plans).
  const timeBoxed = { ...defaultPlan(), onInconclusive: "advance" as const };
  assert.equal(decide(state({ plan: timeBoxed }), verdict("inconclusive"), T0 + 48 * HOUR).action, "advance");
  // A plan that rolls back on inconclusive still rolls back when time runs out.
  const strict = { ...plan, onInconclusive: "rollback" as const };
  assert.equal(decide(state({ plan: strict }), verdict("inconclusive"), T0 + 48 * HOUR).action, "rollback");
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
  assert.match(d.reasons[0]!, /error_rate breached an immediate guard; rolling back at once/);
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

test("fast path: an open breaker, or every recent request failing, rolls back without statistics", () => {
  const plan = defaultPlan();
  const none = { requests: 0, errors: 0 };
  assert.equal(fastPath({ candidate: none, breaker: "open" }, plan).rollback, true);
  const all = fastPath(
    { candidate: { requests: 25, errors: 25 }, recent: { requests: 20, errors: 20 } },
    plan,
  );
  assert.equal(all.rollback, true);
  assert.match(all.reason, /every one of the candidate's 20 requests over the last 10 s failed/);
  // 19 failing of 19 is below the 20 the check needs; the error test then decides on the step so far.
  const few = fastPath(
    { candidate: { requests: 19, errors: 19 }, recent: { requests: 19, errors: 19 } },
    plan,
  );
  assert.equal(few.rollback, false);
  assert.match(few.reason, /below the 20 the error test needs/);
});

test("fast path: Wald's SPRT against the limit and the baseline, pinned to the likelihood ratios by hand", () => {
  const plan = defaultPlan(); // error_rate max 1%, alpha 0.05, 80% of it on step 1: threshold 1/0.04 = 25
  // 6 errors in 100 against 1%: the mixture LR is 110.5, past 25.
  const limitLR = mixtureLR(6, 100, 0.01);
  assert.ok(Math.abs(limitLR - 110.5) < 0.1, `by hand: ${limitLR}`);
  // The baseline: 9 errors of 1,900; with equal rates an error is the candidate's with its share of
  // the requests, 100/2000 = 5%: 6 of 15 errors is the SPRT on that share.
  const share = 0.05;
  const shareLR = mixtureLR(6, 15, share, (r) => (r * share) / (r * share + 1 - share));
  const r = fastPath(
    { candidate: { requests: 100, errors: 6 }, baseline: { requests: 1900, errors: 9 }, concurrent: true },
    plan,
  );
  assert.ok(Math.abs((r.test!.logLikelihoodRatioAboveMax as number) - Math.log(limitLR)) < 1e-9);
  assert.ok(Math.abs((r.test!.logLikelihoodRatioAboveBaseline as number) - Math.log(shareLR)) < 1e-9);
  assert.ok(Math.abs((r.test!.logThreshold as number) - Math.log(25)) < 1e-12);
  assert.equal(r.rollback, shareLR >= 25);
  assert.equal(r.rollback, true);
  assert.match(
    r.reason,
    /error rate 6.00% \(6 of 100 requests this step\) vs 0.47% baseline: shown above the 1.00% guard/,
  );
  // Wald's boundary: 5 errors in 100 give 27.5 (> 25), 4 give 6.9: the line lies between.
  assert.ok(mixtureLR(5, 100, 0.01) > 25 && mixtureLR(4, 100, 0.01) < 25);
  const four = fastPath(
    { candidate: { requests: 100, errors: 4 }, baseline: { requests: 1900, errors: 9 } },
    plan,
  );
  assert.equal(four.rollback, false);
});

test("fast path: a candidate failing only as often as the baseline is not rolled back (both must be shown)", () => {
  const plan = defaultPlan();
  // 6% errors on both: far above the 1% limit, but the baseline fails just as often.
  const r = fastPath(
    { candidate: { requests: 100, errors: 6 }, baseline: { requests: 1900, errors: 114 } },
    plan,
  );
  assert.equal(r.test!.rejects, false);
  assert.equal(r.rollback, false);
  assert.ok((r.test!.logLikelihoodRatioAboveMax as number) > Math.log(25));
  // At later steps each gets a twentieth of alpha's remaining 20%: 1/(0.05 x 0.2 / 3) = 300.
  const later = fastPath(
    { candidate: { requests: 100, errors: 6 }, baseline: { requests: 100, errors: 0 } },
    plan,
    { stepIndex: 2 },
  );
  assert.ok(Math.abs((later.test!.logThreshold as number) - Math.log(300)) < 1e-9);
});

test("fast path: its own limit overrides the error_rate metric's; no guard at all never rolls back on errors", () => {
  const plan = { ...demoPlan(), fastPath: { windowMs: 2000, minRequests: 20, maxErrorRate: 0.5 } };
  const at = (errors: number) => fastPath({ candidate: { requests: 20, errors } }, plan).test!.limit;
  assert.equal(at(9), 0.5);
  const none = { ...defaultPlan(), metrics: [{ kind: "success_rate" as const, maxRelativeDrop: 0.05 }] };
  const r = fastPath({ candidate: { requests: 100, errors: 99 } }, none);
  assert.deepEqual([r.rollback, r.reason], [false, "no error-rate guard"]);
});
