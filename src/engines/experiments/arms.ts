// Per-arm numbers, the input checks, the guardrails and the sample-ratio-mismatch check.

import { num, pct, rateAboveLimit, signedPct, usd } from "../rollout/index.ts";
import { sampleRatioMismatch } from "../stats/index.ts";
import type { ArmInput, ArmResult, ExperimentInput, Guardrail, GuardrailResult, SrmCheck } from "./types.ts";

export const DEFAULT_GUARDRAIL_MIN_REQUESTS = 100;

function count(at: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
    throw new RangeError(`experimentResults: ${at} must be a whole number >= 0, got ${String(v)}`);
  return v;
}

function finite(at: string, v: unknown, min = 0): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min)
    throw new RangeError(`experimentResults: ${at} must be a finite number >= ${min}, got ${String(v)}`);
}

/** Structural checks; a RangeError names the field, as the stats engine does. */
export function checkInput(input: ExperimentInput): void {
  if (typeof input !== "object" || input === null)
    throw new RangeError("experimentResults: input is required");
  if (!Array.isArray(input.arms) || input.arms.length < 2)
    throw new RangeError("experimentResults: arms must list at least two arms (the first is the control)");
  const names = new Set<string>();
  input.arms.forEach((a, i) => {
    const at = `arms[${i}]`;
    if (typeof a?.name !== "string" || a.name === "")
      throw new RangeError(`experimentResults: ${at}.name is required`);
    if (names.has(a.name)) throw new RangeError(`experimentResults: ${at}.name "${a.name}" is used twice`);
    names.add(a.name);
    if (!(typeof a.weight === "number" && a.weight > 0 && Number.isFinite(a.weight)))
      throw new RangeError(`experimentResults: ${at}.weight must be > 0, got ${String(a.weight)}`);
    if (count(`${at}.errors`, a.errors) > count(`${at}.requests`, a.requests))
      throw new RangeError(`experimentResults: ${at}.errors must not exceed ${at}.requests`);
    if (count(`${at}.successes`, a.successes) > count(`${at}.feedbackCount`, a.feedbackCount))
      throw new RangeError(`experimentResults: ${at}.successes must not exceed ${at}.feedbackCount`);
    if (a.units !== undefined) count(`${at}.units`, a.units);
    if (a.scoreCount !== undefined) count(`${at}.scoreCount`, a.scoreCount);
    if (a.scoreSumSquares !== undefined) finite(`${at}.scoreSumSquares`, a.scoreSumSquares);
    finite(`${at}.costUsd`, a.costUsd);
    if (a.latencyP95Ms !== null) finite(`${at}.latencyP95Ms`, a.latencyP95Ms);
  });
  if (input.primary !== "success_rate" && input.primary !== "score_mean")
    throw new RangeError(`experimentResults: primary must be "success_rate" or "score_mean"`);
  if (!(typeof input.plan?.samplePerArm === "number" && input.plan.samplePerArm >= 2))
    throw new RangeError("experimentResults: plan.samplePerArm must be >= 2");
  if (input.primary === "score_mean" && !(input.plan.scoreVariance! > 0))
    throw new RangeError(
      "experimentResults: plan.scoreVariance (> 0) is required when the primary metric is score_mean",
    );
  const alpha = input.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 0.5))
    throw new RangeError(`experimentResults: alpha must be in (0, 0.5), got ${alpha}`);
}

export function armResult(a: ArmInput, totalWeight: number): ArmResult {
  const successRate = a.feedbackCount > 0 ? a.successes / a.feedbackCount : null;
  const costPerRequestUsd = a.requests > 0 ? a.costUsd / a.requests : null;
  const scoreCount = a.scoreCount ?? 0;
  return {
    name: a.name,
    version: a.version,
    weight: a.weight / totalWeight,
    units: a.units ?? a.requests,
    requests: a.requests,
    errors: a.errors,
    feedbackCount: a.feedbackCount,
    successes: a.successes,
    successRate,
    errorRate: a.requests > 0 ? a.errors / a.requests : null,
    scoreMean: scoreCount > 0 ? (a.scoreSum ?? 0) / scoreCount : null,
    costUsd: a.costUsd,
    costPerRequestUsd,
    // Feedback may cover only some requests: scale the cost per request by the success rate.
    costPerSuccessUsd: costPerRequestUsd !== null && successRate ? costPerRequestUsd / successRate : null,
    latencyP95Ms: a.latencyP95Ms,
  };
}

/** One guardrail on one treatment; the control is the reference for relative limits. */
export function checkGuardrail(g: Guardrail, arm: ArmResult, control: ArmResult): GuardrailResult {
  const min = g.minRequests ?? DEFAULT_GUARDRAIL_MIN_REQUESTS;
  const base = { metric: g.metric, arm: arm.name };
  if (arm.requests < min)
    return {
      ...base,
      status: "insufficient_data",
      value: null,
      limit: null,
      reason: `${arm.name}: ${g.metric} guardrail waits for ${num(min, 0)} requests (has ${num(arm.requests, 0)})`,
    };
  if (g.metric === "error_rate") {
    const alpha = g.alpha ?? 0.05;
    const test = rateAboveLimit(arm.errors, arm.requests, g.max, alpha);
    const head = `${arm.name}: error rate ${pct(test.rate, 2)} (${num(arm.errors, 0)} of ${num(arm.requests, 0)})`;
    const breached = g.bound === "point" ? test.rate > g.max : test.exceeds;
    const status = breached ? "breached" : test.rate > g.max ? "at_risk" : "ok";
    const how = g.bound === "point" ? "" : ` (exact one-sided p = ${test.pAbove.toPrecision(2)})`;
    const verdict = { breached: "above", at_risk: "above, not yet significantly,", ok: "within" }[status];
    return {
      ...base,
      status,
      value: test.rate,
      limit: g.max,
      reason: `${head} ${verdict} the ${pct(g.max, 2)} guardrail${how}`,
    };
  }
  const latency = g.metric === "latency_p95_ms";
  const value = latency ? arm.latencyP95Ms : arm.costPerRequestUsd;
  const ref = latency ? control.latencyP95Ms : control.costPerRequestUsd;
  const show = (x: number) => (latency ? `${num(x, 0)} ms` : usd(x));
  const label = latency ? "p95 latency" : "cost per request";
  const limits: number[] = [];
  if (g.max !== undefined) limits.push(g.max);
  if (g.maxRelativeIncrease !== undefined && ref !== null && ref > 0)
    limits.push(ref * (1 + g.maxRelativeIncrease));
  if (value === null || limits.length === 0)
    return {
      ...base,
      status: "insufficient_data",
      value,
      limit: null,
      reason: `${arm.name}: no ${label} to check`,
    };
  const limit = Math.min(...limits);
  const change = ref !== null && ref > 0 ? ` (${signedPct(value / ref - 1)} vs control)` : "";
  const status = value > limit ? "breached" : "ok";
  const verdict = status === "breached" ? "above" : "within";
  return {
    ...base,
    status,
    value,
    limit,
    reason: `${arm.name}: ${label} ${show(value)}${change} ${verdict} the ${show(limit)} guardrail`,
  };
}

/** Chi-square of the units (or requests) per arm against the configured weights. */
export function srmCheck(input: ExperimentInput, arms: ArmResult[]): SrmCheck {
  const threshold = input.srmThreshold ?? 0.001;
  const unit = input.arms.every((a) => a.units !== undefined) ? "units" : "requests";
  const observed = input.arms.map((a) => (unit === "units" ? a.units! : a.requests));
  const total = observed.reduce((s, x) => s + x, 0);
  if (total === 0)
    return {
      status: "insufficient_data",
      unit,
      observed,
      expected: observed,
      chiSquare: null,
      p: null,
      threshold,
    };
  const r = sampleRatioMismatch(
    observed,
    arms.map((a) => a.weight),
    { threshold },
  );
  return {
    status: r.mismatch ? "mismatch" : "ok",
    unit,
    observed,
    expected: r.expected,
    chiSquare: r.chiSquare,
    p: r.p,
    threshold,
  };
}
