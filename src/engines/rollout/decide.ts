// The step machine: from a rollout's state and the latest judgement, what to do now. And the
// fast path, which does not wait for the analysis interval.

import { fmtDuration, num, pct } from "./format.ts";
import type { Decision, FastPathResult, FastPathWindow, Judgement, Plan, RolloutState } from "./types.ts";

/**
 * Decides advance | hold | promote | rollback | paused, in this order:
 * 1. a failed verdict rolls back at once when a failing metric is an immediate guard (error
 *    rate by default), or when the failures in a row reach `failureLimit`; otherwise it holds;
 * 2. any other verdict resets the failure count; an operator's pause then pauses;
 * 3. the step holds until its duration has elapsed, and while the verdict is insufficient_data,
 *    or inconclusive unless the plan advances on inconclusive;
 * 4. a step with a manual gate pauses until `gateApproved`;
 * 5. the last step promotes, any other advances to the next.
 */
export function decide(state: RolloutState, judgement: Judgement, now: number): Decision {
  const { plan, stepIndex } = state;
  const step = plan.steps[stepIndex];
  if (!step) throw new RangeError(`decide: stepIndex ${stepIndex} is not a step of plan "${plan.name}"`);
  const where = `step ${stepIndex + 1} of ${plan.steps.length} (${step.weight}%)`;
  const carry = {
    stepIndex,
    stepStartedAt: state.stepStartedAt,
    consecutiveFailures: state.consecutiveFailures,
    paused: state.paused ?? false,
    gateApproved: state.gateApproved ?? false,
  };
  const out = (
    action: Decision["action"],
    reasons: string[],
    patch: Partial<Decision["next"]> = {},
  ): Decision => {
    const next = { ...carry, ...patch };
    const weight =
      action === "rollback" ? 0 : action === "promote" ? 100 : plan.steps[next.stepIndex]!.weight;
    return { action, reasons, weight, next };
  };

  if (judgement.verdict === "fail") {
    const failures = state.consecutiveFailures + 1;
    const failing = judgement.metrics.filter((m) => m.status === "fail");
    const details = failing.map((m) => m.reason);
    const guards = failing.filter((m) => m.immediateRollback).map((m) => m.metric);
    if (guards.length > 0)
      return out(
        "rollback",
        [`${where}: ${guards.join(", ")} breached an absolute guard; rolling back at once`, ...details],
        {
          consecutiveFailures: failures,
        },
      );
    if (failures >= plan.failureLimit)
      return out(
        "rollback",
        [
          `${where}: ${failures} failed analyses in a row reach the limit of ${plan.failureLimit}`,
          ...details,
        ],
        { consecutiveFailures: failures },
      );
    return out(
      "hold",
      [`${where}: failed analysis ${failures} in a row (rollback at ${plan.failureLimit})`, ...details],
      { consecutiveFailures: failures },
    );
  }
  const reset = { consecutiveFailures: 0 };
  if (state.paused) return out("paused", [`${where}: paused by an operator`], reset);

  const elapsed = now - state.stepStartedAt;
  if (elapsed < step.durationMs)
    return out(
      "hold",
      [
        `${where}: ${fmtDuration(Math.max(0, elapsed))} of ${fmtDuration(step.durationMs)} elapsed; verdict ${judgement.verdict}`,
      ],
      reset,
    );
  if (judgement.verdict === "insufficient_data")
    return out("hold", [`${where}: too little data to judge; holding`, ...judgement.reasons], reset);
  if (judgement.verdict === "inconclusive" && !plan.advanceOnInconclusive)
    return out("hold", [`${where}: inconclusive; holding for more data`, ...judgement.reasons], reset);

  const why = judgement.verdict === "pass" ? "passed" : "inconclusive, and the plan advances on inconclusive";
  if (step.pause && !state.gateApproved)
    return out("paused", [`${where}: ${why}; waiting at a manual gate for a promote`], reset);
  if (stepIndex === plan.steps.length - 1)
    return out("promote", [`${where}: ${why}; last step, promoting the candidate`], reset);
  const nextStep = plan.steps[stepIndex + 1]!;
  return out("advance", [`${where}: ${why}; advancing to ${nextStep.weight}%`], {
    ...reset,
    stepIndex: stepIndex + 1,
    stepStartedAt: now,
    gateApproved: false,
  });
}

/** The error-rate limit of the fast path: its own, else the plan's error_rate metric's. */
export function fastPathLimit(plan: Plan): number | null {
  if (plan.fastPath.maxErrorRate !== undefined) return plan.fastPath.maxErrorRate;
  const metric = plan.metrics.find((m) => m.kind === "error_rate");
  return metric?.kind === "error_rate" ? metric.max : null;
}

/**
 * Checked on every short window of the candidate, without waiting for the analysis interval:
 * an open circuit breaker, or an error rate above the guard over at least
 * `fastPath.minRequests` requests (the point estimate: speed matters more than proof here),
 * rolls back now.
 */
export function fastPath(window: FastPathWindow, plan: Plan): FastPathResult {
  const over = `over the last ${fmtDuration(plan.fastPath.windowMs)}`;
  const errorRate = window.requests > 0 ? window.errors / window.requests : null;
  if (window.breaker === "open")
    return { rollback: true, errorRate, reason: "the candidate's circuit breaker is open" };
  const limit = fastPathLimit(plan);
  if (limit === null || errorRate === null)
    return {
      rollback: false,
      errorRate,
      reason: limit === null ? "no error-rate guard" : `no requests ${over}`,
    };
  const counts = `${num(window.errors, 0)} of ${num(window.requests, 0)} requests`;
  if (window.requests < plan.fastPath.minRequests)
    return {
      rollback: false,
      errorRate,
      reason: `${counts} ${over}, below the ${plan.fastPath.minRequests} the fast path needs`,
    };
  const text = `error rate ${pct(errorRate, 2)} (${counts}) ${over}`;
  if (errorRate > limit)
    return { rollback: true, errorRate, reason: `${text} is above the ${pct(limit, 2)} guard` };
  return { rollback: false, errorRate, reason: `${text} is within the ${pct(limit, 2)} guard` };
}
