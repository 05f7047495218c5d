// One analysis of a canary step: every metric of the plan on the baseline's and the
// candidate's windows, and the step's verdict.

import { judgeAgreement } from "./agreement.ts";
import { stepAlphaShare } from "./alpha.ts";
import { num } from "./format.ts";
import { judgeErrorRate, judgeGroupGap } from "./guards.ts";
import { judgeLatency } from "./latency.ts";
import { judgeCost, judgeScoreMean, judgeSuccessRate, type MetricContext } from "./relative.ts";
import type { Judgement, Metric, MetricResult, Plan, StepVerdict, VersionWindow } from "./types.ts";

export const DEFAULT_ALPHA = 0.05;

export interface JudgeOptions {
  /** The step being judged (default 0); its `minSamplePerArm` overrides the plan's. */
  stepIndex?: number;
  /** Whether the baseline window ran alongside the candidate's (default true; false at a 100% step). */
  concurrent?: boolean;
}

// The field names are built only on failure: this runs at every look, twice.
function count(name: string, field: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
    throw new RangeError(`judge: ${name}${field} must be a whole number >= 0, got ${String(v)}`);
  return v;
}

function nonNegative(name: string, field: string, v: unknown): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
    throw new RangeError(`judge: ${name}${field} must be a finite number >= 0, got ${String(v)}`);
}

/** Checks a window's counts, so that a bug upstream fails loudly instead of judging nonsense. */
export function checkWindow(name: string, w: VersionWindow): void {
  if (typeof w !== "object" || w === null) throw new RangeError(`judge: ${name} must be a window object`);
  if (count(name, ".errors", w.errors) > count(name, ".requests", w.requests))
    throw new RangeError(`judge: ${name}.errors must not exceed ${name}.requests`);
  if (count(name, ".successes", w.successes) > count(name, ".feedbackCount", w.feedbackCount))
    throw new RangeError(`judge: ${name}.successes must not exceed ${name}.feedbackCount`);
  nonNegative(name, ".costUsd", w.costUsd);
  if (w.latencyP95Ms !== null) nonNegative(name, ".latencyP95Ms", w.latencyP95Ms);
  if (w.costSumSquares !== undefined) nonNegative(name, ".costSumSquares", w.costSumSquares);
  if (w.latencyHistogram !== undefined) {
    if (!Array.isArray(w.latencyHistogram))
      throw new RangeError(`judge: ${name}.latencyHistogram must be an array`);
    const h = w.latencyHistogram;
    for (let i = 0; i < h.length; i++) {
      const c = h[i] ?? 0;
      if (!(c >= 0 && Number.isFinite(c))) nonNegative(name, `.latencyHistogram[${i}]`, c);
    }
  }
  if (w.scoreCount !== undefined) count(name, ".scoreCount", w.scoreCount);
  if (w.scoreSumSquares !== undefined) nonNegative(name, ".scoreSumSquares", w.scoreSumSquares);
  const groups = w.groups;
  if (groups)
    for (const attr in groups) {
      const values = groups[attr]!;
      for (const key in values) {
        const g = values[key]!;
        if (
          Number.isSafeInteger(g?.n) &&
          Number.isSafeInteger(g.successes) &&
          g.successes >= 0 &&
          g.successes <= g.n
        )
          continue;
        if (
          count(name, `.groups.${attr}.${key}.successes`, g?.successes) >
          count(name, `.groups.${attr}.${key}.n`, g?.n)
        )
          throw new RangeError(
            `judge: ${name}.groups.${attr}.${key}.successes must not exceed ${name}.groups.${attr}.${key}.n`,
          );
      }
    }
}

function judgeMetric(m: Metric, base: VersionWindow, cand: VersionWindow, ctx: MetricContext): MetricResult {
  switch (m.kind) {
    case "success_rate":
      return judgeSuccessRate(m, base, cand, ctx);
    case "score_mean":
      return judgeScoreMean(m, base, cand, ctx);
    case "error_rate":
      return judgeErrorRate(m, base, cand, ctx);
    case "latency_p95_ms":
      return judgeLatency(m, base, cand, ctx);
    case "cost_per_request_usd":
      return judgeCost(m, base, cand, ctx);
    case "group_success_gap":
      return judgeGroupGap(m, base, cand, ctx);
    case "agreement":
      return judgeAgreement(m, cand, ctx);
  }
}

/**
 * Judges one step. The verdict is "fail" when any metric fails; "insufficient_data" when either
 * arm has fewer requests than the step's minimum or any metric lacks data (so that too little
 * data holds the step even when the plan advances on inconclusive verdicts); "inconclusive"
 * when any metric is; else "pass". A metric with its own lower `minSample` can fail before the
 * step's minimum is reached.
 *
 * At a 100% step the baseline gets no traffic: pass the baseline's last window from before
 * the step as the reference.
 */
export function judge(
  plan: Plan,
  baseline: VersionWindow,
  candidate: VersionWindow,
  opts: JudgeOptions = {},
): Judgement {
  const stepIndex = opts.stepIndex ?? 0;
  const step = plan.steps[stepIndex];
  if (!step) throw new RangeError(`judge: stepIndex ${stepIndex} is not a step of plan "${plan.name}"`);
  checkWindow("baseline", baseline);
  checkWindow("candidate", candidate);
  const minSamplePerArm = step.minSamplePerArm ?? plan.minSamplePerArm;
  const share = stepAlphaShare(plan, stepIndex);
  const ctx: MetricContext = {
    minSample: minSamplePerArm,
    alpha: plan.alpha ?? DEFAULT_ALPHA,
    share,
    concurrent: opts.concurrent ?? true,
  };
  const metrics = plan.metrics.map((m) => judgeMetric(m, baseline, candidate, ctx));
  const sampled = baseline.requests >= minSamplePerArm && candidate.requests >= minSamplePerArm;
  const has = (s: MetricResult["status"]) => metrics.filter((m) => m.status === s);
  let verdict: StepVerdict;
  let reasons: () => string[];
  if (has("fail").length > 0) {
    verdict = "fail";
    reasons = () => has("fail").map((m) => m.reason);
  } else if (!sampled || has("insufficient_data").length > 0) {
    verdict = "insufficient_data";
    reasons = () => [
      ...(sampled
        ? []
        : [
            `${num(candidate.requests, 0)} candidate and ${num(baseline.requests, 0)} baseline requests; the step needs ${num(minSamplePerArm, 0)} per arm`,
          ]),
      ...has("insufficient_data").map((m) => m.reason),
    ];
  } else if (has("inconclusive").length > 0) {
    verdict = "inconclusive";
    reasons = () => has("inconclusive").map((m) => m.reason);
  } else {
    verdict = "pass";
    reasons = () => [`all ${metrics.length} metrics pass`];
  }
  return {
    verdict,
    stepIndex,
    minSamplePerArm,
    alpha: ctx.alpha * share,
    samples: { baseline: baseline.requests, candidate: candidate.requests },
    metrics,
    // Built when read: most looks hold and nobody reads them (the decision records do).
    get reasons() {
      return reasons();
    },
  };
}
