// The step machine: from a rollout's state and the latest judgement, what to do now. And the
// fast path, which does not wait for the analysis interval.

import { stepAlphaShare } from "./alpha.ts";
import { errorRateTest } from "./error-test.ts";
import { fmtDuration, num, pct } from "./format.ts";
import { DEFAULT_ALPHA } from "./judge.ts";
import type {
  Decision,
  FastPathResult,
  FastPathWindow,
  Judgement,
  OnInconclusive,
  Plan,
  RolloutState,
  Step,
} from "./types.ts";

/** What the plan does with an inconclusive step at its maximum (old plans: advanceOnInconclusive). */
export function onInconclusiveOf(plan: Plan): OnInconclusive {
  return plan.onInconclusive ?? (plan.advanceOnInconclusive ? "advance" : "pause");
}

/** How long a step waits for a conclusive verdict: its own maxDurationMs, else twice its duration. */
export function stepMaxDurationMs(step: Step): number {
  return Math.max(step.maxDurationMs ?? 2 * step.durationMs, step.durationMs);
}

/**
 * Decides advance | hold | promote | rollback | paused, in this order:
 * 1. a failed verdict rolls back at once when a failing metric is an immediate guard (error
 *    rate by default), or when the failures in a row reach `failureLimit`; otherwise it holds;
 * 2. any other verdict resets the failure count; an operator's pause then pauses;
 * 3. the step holds until its duration has elapsed;
 * 4. a pass goes on (a step with a manual gate pauses until `gateApproved`; the last step
 *    promotes; any other advances);
 * 5. an inconclusive or insufficient verdict holds for more data until the step's maximum
 *    sample per arm or its maximum duration, then does what `onInconclusive` says; too little
 *    data never advances (it pauses instead), nor does a step that runs out of time short of
 *    the maximum sample the plan sets (that sample is what an advance on inconclusive rests on).
 */
export function decide(state: RolloutState, judgement: Judgement, now: number): Decision {
  const { plan, stepIndex } = state;
  const step = plan.steps[stepIndex];
  if (!step) throw new RangeError(`decide: stepIndex ${stepIndex} is not a step of plan "${plan.name}"`);
  const where = () => `step ${stepIndex + 1} of ${plan.steps.length} (${step.weight}%)`;
  const carry = {
    stepIndex,
    stepStartedAt: state.stepStartedAt,
    consecutiveFailures: state.consecutiveFailures,
    paused: state.paused ?? false,
    gateApproved: state.gateApproved ?? false,
  };
  const out = (
    action: Decision["action"],
    reasons: string[] | (() => string[]),
    patch: Partial<Decision["next"]> = {},
  ): Decision => {
    const next = { ...carry, ...patch };
    const weight =
      action === "rollback" ? 0 : action === "promote" ? 100 : plan.steps[next.stepIndex]!.weight;
    if (typeof reasons !== "function") return { action, reasons, weight, next };
    // Built when read: most looks hold inside the step's duration and nobody reads why.
    return {
      action,
      weight,
      next,
      get reasons() {
        return reasons();
      },
    };
  };

  if (judgement.verdict === "fail") {
    const failures = state.consecutiveFailures + 1;
    const failing = judgement.metrics.filter((m) => m.status === "fail");
    const details = failing.map((m) => m.reason);
    const guards = failing.filter((m) => m.immediateRollback).map((m) => m.metric);
    if (guards.length > 0)
      return out(
        "rollback",
        () => [
          `${where()}: ${guards.join(", ")} breached an immediate guard; rolling back at once`,
          ...details,
        ],
        { consecutiveFailures: failures },
      );
    if (failures >= plan.failureLimit)
      return out(
        "rollback",
        () => [
          `${where()}: ${failures} failed analyses in a row reach the limit of ${plan.failureLimit}`,
          ...details,
        ],
        { consecutiveFailures: failures },
      );
    return out(
      "hold",
      () => [
        `${where()}: failed analysis ${failures} in a row (rollback at ${plan.failureLimit})`,
        ...details,
      ],
      { consecutiveFailures: failures },
    );
  }
  const reset = { consecutiveFailures: 0 };
  if (state.paused) return out("paused", () => [`${where()}: paused by an operator`], reset);

  const elapsed = now - state.stepStartedAt;
  if (elapsed < step.durationMs)
    return out(
      "hold",
      () => [
        `${where()}: ${fmtDuration(Math.max(0, elapsed))} of ${fmtDuration(step.durationMs)} elapsed; verdict ${judgement.verdict}`,
      ],
      reset,
    );

  const goOn = (why: string): Decision => {
    if (step.pause && !state.gateApproved)
      return out("paused", () => [`${where()}: ${why}; waiting at a manual gate for a promote`], reset);
    if (stepIndex === plan.steps.length - 1)
      return out("promote", () => [`${where()}: ${why}; last step, promoting the candidate`], reset);
    const nextStep = plan.steps[stepIndex + 1]!;
    return out("advance", () => [`${where()}: ${why}; advancing to ${nextStep.weight}%`], {
      ...reset,
      stepIndex: stepIndex + 1,
      stepStartedAt: now,
      gateApproved: false,
    });
  };
  if (judgement.verdict === "pass") return goOn("passed");

  const maxSample = step.maxSamplePerArm ?? plan.maxSamplePerArm;
  const maxDuration = stepMaxDurationMs(step);
  const sampled =
    maxSample !== undefined &&
    judgement.samples !== undefined &&
    judgement.samples.baseline >= maxSample &&
    judgement.samples.candidate >= maxSample;
  const what = judgement.verdict === "inconclusive" ? "inconclusive" : "too little data to judge";
  if (!sampled && elapsed < maxDuration)
    return out(
      "hold",
      () => [
        `${where()}: ${what}; holding for more data (up to ${fmtDuration(maxDuration)}${maxSample !== undefined ? ` or ${num(maxSample, 0)} requests per arm` : ""})`,
        ...judgement.reasons,
      ],
      reset,
    );
  const limit = sampled
    ? `the maximum sample of ${num(maxSample!, 0)} per arm`
    : `the maximum of ${fmtDuration(maxDuration)}`;
  // Too little data never advances a step: with nothing judged, a person decides (or the plan rolls back).
  // Nor does running out of time short of the sample the plan names: a maximum sample says how much
  // evidence an advance on inconclusive needs, and slow traffic must not stand in for it.
  const planned = onInconclusiveOf(plan);
  const short = planned === "advance" && maxSample !== undefined && !sampled;
  const action =
    (judgement.verdict === "insufficient_data" || short) && planned === "advance" ? "pause" : planned;
  const at = `${where()}: still ${what} at ${limit}`;
  if (action === "advance") return goOn(`${what} at ${limit}, and the plan advances on inconclusive`);
  if (short && judgement.verdict === "inconclusive")
    return out(
      "paused",
      () => [
        `${at}, short of the ${num(maxSample!, 0)} requests per arm the plan advances on (${num(judgement.samples?.candidate ?? 0, 0)} candidate, ${num(judgement.samples?.baseline ?? 0, 0)} baseline); paused for a person to decide (promote or abort)`,
        ...judgement.reasons,
      ],
      reset,
    );
  if (action === "rollback")
    return out("rollback", () => [`${at}; the plan rolls back on inconclusive`, ...judgement.reasons], reset);
  return out(
    "paused",
    () => [`${at}; paused for a person to decide (promote or abort)`, ...judgement.reasons],
    reset,
  );
}

/** The error-rate limit of the fast path: its own, else the plan's error_rate metric's. */
export function fastPathLimit(plan: Plan): number | null {
  if (plan.fastPath.maxErrorRate !== undefined) return plan.fastPath.maxErrorRate;
  const metric = plan.metrics.find((m) => m.kind === "error_rate");
  return metric?.kind === "error_rate" ? metric.max : null;
}

/**
 * Checked every second, without waiting for the analysis interval. Rolls back at once when
 * the candidate's circuit breaker is open; when every one of at least `fastPath.minRequests`
 * requests over the last `fastPath.windowMs` failed; or when the error-rate test (the same one
 * the judge runs, at the same alpha) shows the candidate's rate over the step so far above
 * both the limit and the baseline's. That test is valid however often it looks.
 */
export function fastPath(
  window: FastPathWindow,
  plan: Plan,
  opts: { stepIndex?: number } = {},
): FastPathResult {
  const cand = window.candidate;
  const errorRate = cand.requests > 0 ? cand.errors / cand.requests : null;
  if (window.breaker === "open")
    return { rollback: true, errorRate, reason: "the candidate's circuit breaker is open" };
  const recent = window.recent;
  const over = () => `over the last ${fmtDuration(plan.fastPath.windowMs)}`;
  if (recent && recent.requests >= plan.fastPath.minRequests && recent.errors === recent.requests)
    return {
      rollback: true,
      errorRate,
      reason: `every one of the candidate's ${num(recent.requests, 0)} requests ${over()} failed`,
    };
  const limit = fastPathLimit(plan);
  if (limit === null) return { rollback: false, errorRate, reason: "no error-rate guard" };
  if (cand.requests < plan.fastPath.minRequests)
    return {
      rollback: false,
      errorRate,
      reason: `${num(cand.errors, 0)} of ${num(cand.requests, 0)} requests this step, below the ${plan.fastPath.minRequests} the error test needs`,
    };
  const metric = plan.metrics.find((m) => m.kind === "error_rate");
  const alpha = (metric?.alpha ?? plan.alpha ?? DEFAULT_ALPHA) * stepAlphaShare(plan, opts.stepIndex ?? 0);
  const t = errorRateTest(cand, window.baseline, limit, alpha, window.concurrent ?? true);
  const test = {
    limit,
    alpha,
    baselineRate: t.baselineRate,
    logLikelihoodRatioAboveMax: t.limitLogLR,
    logLikelihoodRatioAboveBaseline: t.baselineLogLR,
    logThreshold: -Math.log(alpha),
    rejects: t.rejects,
  };
  // The sentence is built only when read: this runs every second, and in the decision
  // benchmark millions of times, where nobody reads a "no breach" sentence.
  const text = () =>
    `error rate ${pct(errorRate!, 2)} (${num(cand.errors, 0)} of ${num(cand.requests, 0)} requests this step) vs ${t.baselineRate === null ? "no baseline" : `${pct(t.baselineRate, 2)} baseline`}`;
  if (t.rejects)
    return {
      rollback: true,
      errorRate,
      test,
      get reason() {
        return `${text()}: shown above the ${pct(limit, 2)} guard and the baseline (sequential test at alpha ${num(alpha, 4)})`;
      },
    };
  return {
    rollback: false,
    errorRate,
    test,
    get reason() {
      return `${text()}: not shown above the ${pct(limit, 2)} guard and the baseline`;
    },
  };
}
