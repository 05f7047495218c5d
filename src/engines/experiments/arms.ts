// Per-arm numbers, the input checks, the guardrails and the sample-ratio-mismatch check.

import { judgeErrorRate } from "../rollout/guards.ts";
import { num } from "../rollout/index.ts";
import { judgeLatency } from "../rollout/latency.ts";
import { judgeCost } from "../rollout/relative.ts";
import type { MetricResult, MetricStatus, VersionWindow } from "../rollout/types.ts";
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
    if (a.costSumSquares !== undefined) finite(`${at}.costSumSquares`, a.costSumSquares);
    if (a.latencyHistogram !== undefined && !Array.isArray(a.latencyHistogram))
      throw new RangeError(`experimentResults: ${at}.latencyHistogram must be an array of counts`);
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

/** An arm as the rollout judge's window, so guardrails use the judge's sequential tests. */
function asWindow(a: ArmInput): VersionWindow {
  return {
    requests: a.requests,
    errors: a.errors,
    feedbackCount: a.feedbackCount,
    successes: a.successes,
    latencyP95Ms: a.latencyP95Ms,
    costUsd: a.costUsd,
    ...(a.costSumSquares !== undefined ? { costSumSquares: a.costSumSquares } : {}),
    ...(a.latencyHistogram !== undefined ? { latencyHistogram: a.latencyHistogram } : {}),
  };
}

const STATUS: Record<MetricStatus, GuardrailResult["status"]> = {
  fail: "breached",
  inconclusive: "at_risk",
  pass: "ok",
  insufficient_data: "insufficient_data",
};

/**
 * One guardrail on one treatment, by the rollout judge's sequential test for the metric (the
 * control as its baseline): valid at every look, so a watcher looking every second stops an
 * experiment with identical arms at most alpha of the time.
 */
export function checkGuardrail(g: Guardrail, arm: ArmInput, control: ArmInput): GuardrailResult {
  const minSample = g.minRequests ?? DEFAULT_GUARDRAIL_MIN_REQUESTS;
  const ctx = { minSample, alpha: g.alpha ?? 0.05 };
  const base = asWindow(control);
  const cand = asWindow(arm);
  const head = `${arm.name}: `;
  let r: MetricResult;
  if (g.metric === "error_rate") r = judgeErrorRate({ kind: "error_rate", max: g.max }, base, cand, ctx);
  else {
    const limits = {
      ...(g.max !== undefined ? { max: g.max } : {}),
      ...(g.maxRelativeIncrease !== undefined ? { maxRelativeIncrease: g.maxRelativeIncrease } : {}),
    };
    r =
      g.metric === "latency_p95_ms"
        ? judgeLatency({ kind: "latency_p95_ms", ...limits }, base, cand, ctx)
        : judgeCost({ kind: "cost_per_request_usd", ...limits }, base, cand, ctx);
  }
  const n = r.numbers;
  const value =
    g.metric === "error_rate"
      ? (n.candidate as number | null)
      : g.metric === "latency_p95_ms"
        ? ((n.candidate as number | null) ?? null)
        : arm.requests > 0
          ? arm.costUsd / arm.requests
          : null;
  const limitList = Array.isArray(n.limits) ? (n.limits as number[]) : [];
  const limit =
    g.metric === "error_rate"
      ? g.max
      : g.metric === "latency_p95_ms"
        ? limitList.length
          ? Math.min(...limitList)
          : null
        : (g.max ??
          (g.maxRelativeIncrease !== undefined && control.requests > 0
            ? (control.costUsd / control.requests) * (1 + g.maxRelativeIncrease)
            : null));
  const reason =
    r.status === "insufficient_data"
      ? `${head}${g.metric} guardrail waits for ${num(minSample, 0)} requests (has ${num(arm.requests, 0)})`
      : `${head}${r.reason}`;
  return { metric: g.metric, arm: arm.name, status: STATUS[r.status], value, limit, reason, numbers: n };
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
