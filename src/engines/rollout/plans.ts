// The built-in plans, and the business rules a plan must satisfy.

import type { Metric, MetricKind, Plan } from "./types.ts";

const HOUR = 3_600_000;

/**
 * 5% → 25% → 50% → 100%, 24 h each, analysed every minute, the error test every second.
 * Each metric's 5% alpha holds over the whole rollout (80% of it spent on the first step);
 * a step still inconclusive after 48 h pauses for a person.
 */
export function defaultPlan(): Plan {
  return {
    name: "default",
    steps: [5, 25, 50, 100].map((weight) => ({ weight, durationMs: 24 * HOUR })),
    analysisIntervalMs: 60_000,
    minSamplePerArm: 200,
    failureLimit: 2,
    onInconclusive: "pause",
    alpha: 0.05,
    metrics: [
      { kind: "success_rate", maxRelativeDrop: 0.05 },
      { kind: "error_rate", max: 0.01 },
      { kind: "latency_p95_ms", maxRelativeIncrease: 0.2 },
      { kind: "group_success_gap", maxGapPoints: 5, minGroupSize: 30 },
    ],
    fastPath: { windowMs: 10_000, minRequests: 20 },
  };
}

/**
 * The same shape in seconds, for `modelgov demo rollout` on the simulator: 3 s steps analysed
 * every second, small minimum samples, and wider margins that small samples can settle.
 *
 * An inconclusive step advances only at 400 requests per arm, not at a time: the demo runs on
 * machines of any speed, and a slow one must not promote the degraded candidate because its
 * traffic came slowly. 400 is where the apac gap (45% against 92%, a third of the traffic) has
 * failed twice in every simulated run (plans.test.ts); a step that reaches 2 minutes short of
 * it pauses for a person.
 */
export function demoPlan(): Plan {
  return {
    name: "demo",
    steps: [10, 25, 50, 100].map((weight) => ({
      weight,
      durationMs: 3_000,
      maxSamplePerArm: 400,
      maxDurationMs: 120_000,
    })),
    analysisIntervalMs: 1_000,
    minSamplePerArm: 30,
    failureLimit: 2,
    onInconclusive: "advance",
    alpha: 0.05,
    metrics: [
      { kind: "success_rate", maxRelativeDrop: 0.1 },
      { kind: "error_rate", max: 0.05 },
      { kind: "latency_p95_ms", maxRelativeIncrease: 0.5 },
      { kind: "group_success_gap", maxGapPoints: 20, minGroupSize: 15 },
    ],
    fastPath: { windowMs: 2_000, minRequests: 10 },
  };
}

/**
 * For blue-green rollouts (`--blue-green`): the candidate answers a mirrored copy of all traffic
 * (step weight = the share mirrored) for 30 minutes while serving none, judged on agreement with
 * the served answers, errors and latency; then it takes all traffic at once.
 */
export function blueGreenPlan(): Plan {
  return {
    name: "blue-green",
    steps: [{ weight: 100, durationMs: 30 * 60_000 }],
    analysisIntervalMs: 30_000,
    minSamplePerArm: 200,
    failureLimit: 2,
    onInconclusive: "pause",
    alpha: 0.05,
    metrics: [
      { kind: "agreement", min: 0.8 },
      { kind: "error_rate", max: 0.01 },
      { kind: "latency_p95_ms", maxRelativeIncrease: 0.2 },
    ],
    fastPath: { windowMs: 10_000, minRequests: 20 },
  };
}

/** The built-in plans by name. */
export const BUILT_IN_PLANS: Readonly<Record<string, () => Plan>> = {
  default: defaultPlan,
  demo: demoPlan,
  "blue-green": blueGreenPlan,
};

export interface PlanProblem {
  field: string;
  reason: string;
}

const KINDS: readonly MetricKind[] = [
  "success_rate",
  "score_mean",
  "error_rate",
  "latency_p95_ms",
  "cost_per_request_usd",
  "group_success_gap",
  "agreement",
];

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isInt = (v: unknown, min: number): boolean => Number.isSafeInteger(v) && (v as number) >= min;

function checkMetric(m: Metric, at: string, push: (field: string, reason: string) => void): void {
  const optional = (
    field: keyof Metric | "max" | "maxRelativeIncrease",
    ok: (v: number) => boolean,
    why: string,
  ) => {
    const v = (m as unknown as Record<string, unknown>)[field];
    if (v !== undefined && !(isNum(v) && ok(v))) push(`${at}.${field}`, why);
  };
  optional("minSample", (v) => Number.isSafeInteger(v) && v >= 1, "must be an integer >= 1");
  optional("alpha", (v) => v > 0 && v < 0.5, "must be in (0, 0.5)");
  if (m.immediateRollback !== undefined && typeof m.immediateRollback !== "boolean")
    push(`${at}.immediateRollback`, "must be a boolean");
  switch (m.kind) {
    case "success_rate":
    case "score_mean": {
      const absolute = m.kind === "success_rate" ? "maxDropPoints" : "maxDrop";
      const abs = (m as unknown as Record<string, unknown>)[absolute];
      const floor = m.kind === "success_rate" ? m.min : undefined;
      if (m.maxRelativeDrop !== undefined && abs !== undefined)
        push(at, `give the margin once: maxRelativeDrop (relative) or ${absolute} (absolute), not both`);
      if (m.maxRelativeDrop === undefined && abs === undefined && floor === undefined)
        push(
          at,
          m.kind === "success_rate"
            ? "needs a margin (maxRelativeDrop: 0.05 for 5% relative, or maxDropPoints: 5 for 5 points) or a floor (min)"
            : "needs a margin: maxRelativeDrop (0.05 for 5% relative) or maxDrop (in score units)",
        );
      if (
        m.maxRelativeDrop !== undefined &&
        !(isNum(m.maxRelativeDrop) && m.maxRelativeDrop > 0 && m.maxRelativeDrop < 1)
      )
        push(`${at}.maxRelativeDrop`, "must be in (0, 1), e.g. 0.05 for 5% relative");
      if (abs !== undefined && !(isNum(abs) && abs > 0 && (m.kind === "score_mean" || abs <= 100)))
        push(
          `${at}.${absolute}`,
          m.kind === "success_rate" ? "must be in (0, 100] percentage points" : "must be > 0",
        );
      if (floor !== undefined && !(isNum(floor) && floor > 0 && floor < 1))
        push(`${at}.min`, "must be a rate in (0, 1), e.g. 0.8");
      return;
    }
    case "error_rate":
      if (!(isNum(m.max) && m.max > 0 && m.max < 1)) push(`${at}.max`, "must be a rate in (0, 1), e.g. 0.01");
      if (m.bound !== undefined && m.bound !== "one_sided")
        push(
          `${at}.bound`,
          'only "one_sided" (the sequential test); a point threshold is not valid under repeated looks',
        );
      return;
    case "latency_p95_ms":
    case "cost_per_request_usd":
      if (m.max === undefined && m.maxRelativeIncrease === undefined)
        push(at, "needs max, maxRelativeIncrease or both");
      optional("max", (v) => v > 0, "must be > 0");
      optional("maxRelativeIncrease", (v) => v >= 0, "must be >= 0, e.g. 0.2 for +20%");
      return;
    case "agreement":
      if (!(isNum(m.min) && m.min > 0 && m.min <= 1)) push(`${at}.min`, "must be a rate in (0, 1], e.g. 0.9");
      return;
    case "group_success_gap":
      if (!(isNum(m.maxGapPoints) && m.maxGapPoints > 0 && m.maxGapPoints <= 100))
        push(`${at}.maxGapPoints`, "must be in (0, 100] percentage points");
      if (m.minGroupSize !== undefined && !isInt(m.minGroupSize, 1))
        push(`${at}.minGroupSize`, "must be an integer >= 1");
      if (m.attributes !== undefined && (!Array.isArray(m.attributes) || m.attributes.length === 0))
        push(`${at}.attributes`, "must be a non-empty list when given");
      return;
  }
}

/** Every business-rule problem of a plan, each naming its field; empty when the plan is valid. */
export function validatePlan(plan: Plan): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const push = (field: string, reason: string) => problems.push({ field, reason });
  if (typeof plan !== "object" || plan === null) return [{ field: "", reason: "must be a plan object" }];
  if (typeof plan.name !== "string" || plan.name.trim() === "") push("name", "must be a non-empty string");
  if (!Array.isArray(plan.steps) || plan.steps.length === 0) push("steps", "must list at least one step");
  else {
    let previous = 0;
    plan.steps.forEach((s, i) => {
      if (!(isNum(s?.weight) && s.weight > 0 && s.weight <= 100))
        push(`steps[${i}].weight`, "must be in (0, 100]");
      else if (s.weight <= previous)
        push(`steps[${i}].weight`, `must be greater than the previous step's ${previous}`);
      if (isNum(s?.weight)) previous = Math.max(previous, s.weight);
      if (!(isNum(s?.durationMs) && s.durationMs > 0)) push(`steps[${i}].durationMs`, "must be > 0");
      if (s?.minSamplePerArm !== undefined && !isInt(s.minSamplePerArm, 2))
        push(`steps[${i}].minSamplePerArm`, "must be an integer >= 2");
      if (s?.maxSamplePerArm !== undefined && !isInt(s.maxSamplePerArm, 2))
        push(`steps[${i}].maxSamplePerArm`, "must be an integer >= 2");
      if (
        s?.maxDurationMs !== undefined &&
        !(isNum(s.maxDurationMs) && s.maxDurationMs >= (s.durationMs ?? 0))
      )
        push(`steps[${i}].maxDurationMs`, "must be at least the step's durationMs");
      if (s?.pause !== undefined && typeof s.pause !== "boolean")
        push(`steps[${i}].pause`, "must be a boolean");
    });
  }
  if (!(isNum(plan.analysisIntervalMs) && plan.analysisIntervalMs > 0))
    push("analysisIntervalMs", "must be > 0");
  if (!isInt(plan.minSamplePerArm, 2)) push("minSamplePerArm", "must be an integer >= 2");
  if (!isInt(plan.failureLimit, 1)) push("failureLimit", "must be an integer >= 1");
  if (plan.alpha !== undefined && !(isNum(plan.alpha) && plan.alpha > 0 && plan.alpha < 0.5))
    push("alpha", "must be in (0, 0.5)");
  if (plan.maxSamplePerArm !== undefined && !isInt(plan.maxSamplePerArm, 2))
    push("maxSamplePerArm", "must be an integer >= 2");
  if (
    plan.onInconclusive !== undefined &&
    !["advance", "pause", "rollback"].includes(plan.onInconclusive as string)
  )
    push("onInconclusive", 'must be "advance", "pause" or "rollback"');
  if (plan.alphaByStep !== undefined) {
    const shares = plan.alphaByStep;
    if (!Array.isArray(shares) || !Array.isArray(plan.steps) || shares.length !== plan.steps.length)
      push("alphaByStep", "must give one share per step");
    else if (
      !shares.every((x) => isNum(x) && x > 0) ||
      Math.abs(shares.reduce((s, x) => s + x, 0) - 1) > 1e-9
    )
      push("alphaByStep", "shares must be > 0 and sum to 1, so the whole rollout stays within alpha");
  }
  if (!Array.isArray(plan.metrics) || plan.metrics.length === 0)
    push("metrics", "must list at least one metric");
  else {
    const seen = new Set<string>();
    plan.metrics.forEach((m, i) => {
      const at = `metrics[${i}]`;
      if (!KINDS.includes(m?.kind)) {
        push(`${at}.kind`, `must be one of ${KINDS.join(", ")}`);
        return;
      }
      if (seen.has(m.kind)) push(`${at}.kind`, `${m.kind} is listed twice`);
      seen.add(m.kind);
      checkMetric(m, at, push);
    });
  }
  const fp = plan.fastPath;
  if (typeof fp !== "object" || fp === null) push("fastPath", "must be given: { windowMs, minRequests }");
  else {
    if (!(isNum(fp.windowMs) && fp.windowMs > 0)) push("fastPath.windowMs", "must be > 0");
    if (!isInt(fp.minRequests, 1)) push("fastPath.minRequests", "must be an integer >= 1");
    if (
      fp.maxErrorRate !== undefined &&
      !(isNum(fp.maxErrorRate) && fp.maxErrorRate >= 0 && fp.maxErrorRate < 1)
    )
      push("fastPath.maxErrorRate", "must be a rate in [0, 1)");
  }
  return problems;
}
