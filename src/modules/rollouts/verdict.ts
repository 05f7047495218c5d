import type { Action, MetricStatus, StepVerdict } from "../../engines/rollout/types.ts";
import type { Clock } from "../../lib/clock.ts";
import { notFound } from "../../lib/errors.ts";
import type { Db } from "../../store/db.ts";
import { modelIdByName } from "../registry/index.ts";
import {
  activeRollout,
  advanceFrom,
  type DecisionRow,
  decisionsOf,
  latestRolloutOf,
  type RolloutRow,
  type RolloutStatus,
  rolloutsOf,
} from "./rollouts.store.ts";
import { analyseStep, type StepAnalysis } from "./step-analysis.ts";

/** What an outside rollout controller (Argo Rollouts) should do with its canary of this candidate. */
export type Verdict = "promote" | "hold" | "rollback";

export interface RolloutVerdict {
  verdict: Verdict;
  reasons: string[];
  model: string;
  rollout: string;
  candidate: string;
  baseline: string;
  status: RolloutStatus;
  stepIndex: number;
  steps: number;
  weight: number;
  at: Date;
  /** The look behind an active rollout's verdict; null once the rollout has ended. */
  analysis: {
    verdict: StepVerdict;
    /** What the controller's step machine would do if it looked now. */
    action: Action;
    window: { from: Date; to: Date };
    samples: { baseline: number; candidate: number };
    metrics: { metric: string; status: MetricStatus; reason: string }[];
  } | null;
}

/**
 * The verdict on a rollout, from the same look the controller takes (analyseStep: the current
 * step's window, the judge, the step machine), read-only:
 * - ended: promoted → promote; rolled back or aborted → rollback (the controller decided);
 * - active: rollback when the step machine would roll back now (an immediate guard, the failure
 *   limit, or the plan's rollback at an inconclusive maximum); hold while the rollout is paused
 *   or waits at a gate; promote when the judge passes the candidate over the step so far (the
 *   time still left in modelgov's step does not hold it: the outside canary keeps its own
 *   clock), or when the step has no conclusive verdict yet and the controller entered it on a
 *   pass (an outside gate that lands just after a step change need not wait for the new
 *   step's data); hold otherwise (a failure below the limit, inconclusive, too little data).
 */
export function verdictOf(
  r: RolloutRow,
  look: StepAnalysis | null,
  history: { last?: DecisionRow | null; entered?: DecisionRow | null },
) {
  const lastReasons = history.last?.reasons ?? [];
  const entered = history.entered;
  const where = `rollout ${r.id} of ${r.model}@${r.candidate} against ${r.baseline}`;
  const ended = (verdict: Verdict, what: string) => ({
    verdict,
    reasons: [`${where} ${what}${r.endedAt ? ` at ${r.endedAt.toISOString()}` : ""}`, ...lastReasons],
  });
  if (r.status === "promoted") return ended("promote", "was promoted");
  if (r.status === "rolled_back") return ended("rollback", "was rolled back");
  if (r.status === "aborted") return ended("rollback", "was aborted");
  if (!look) throw new Error(`verdictOf: an active rollout (${r.id}) needs its look`);
  const { decision, judgement } = look;
  if (decision.action === "rollback") return { verdict: "rollback" as const, reasons: decision.reasons };
  if (r.status === "paused")
    return {
      verdict: "hold" as const,
      reasons: [`${where} is paused: ${r.pausedReason ?? "by an operator"}`, ...judgement.reasons],
    };
  if (decision.action === "paused") return { verdict: "hold" as const, reasons: decision.reasons };
  if (judgement.verdict === "pass")
    return {
      verdict: "promote" as const,
      reasons: [
        `step ${r.stepIndex + 1} of ${r.plan.steps.length}: the candidate passes every metric against the baseline over the step so far`,
        ...judgement.metrics.map((m) => m.reason),
      ],
    };
  const undecided = judgement.verdict === "inconclusive" || judgement.verdict === "insufficient_data";
  if (undecided && (entered?.analysis as { verdict?: string } | null)?.verdict === "pass")
    return {
      verdict: "promote" as const,
      reasons: [
        `step ${r.stepIndex + 1} of ${r.plan.steps.length}: ${judgement.verdict === "inconclusive" ? "no conclusive verdict" : "too little data"} yet, nothing failed; the candidate passed step ${r.stepIndex} (${entered!.at.toISOString()})`,
        ...entered!.reasons,
      ],
    };
  return {
    verdict: "hold" as const,
    reasons: [...decision.reasons, ...(judgement.verdict === "fail" ? [] : judgement.reasons)],
  };
}

/**
 * The verdict on a model's rollout: of `candidate`, its latest rollout; without, the active
 * rollout, else the last one.
 */
export async function rolloutVerdict(
  deps: { db: Db; clock: Clock },
  model: string,
  candidate?: string,
): Promise<RolloutVerdict> {
  const { db, clock } = deps;
  const modelId = await modelIdByName(db, model);
  if (!modelId) throw notFound(`model '${model}'`);
  const r = candidate
    ? await latestRolloutOf(db, modelId, candidate)
    : ((await activeRollout(db, modelId)) ?? (await rolloutsOf(db, modelId, 1))[0] ?? null);
  if (!r) throw notFound(candidate ? `a rollout of ${model}@${candidate}` : `a rollout of '${model}'`);
  const now = clock.now();
  const active = r.status === "running" || r.status === "paused";
  const look = active ? await analyseStep(db, r, now) : null;
  const history = active
    ? { entered: r.stepIndex > 0 ? await advanceFrom(db, r.id, r.stepIndex - 1) : null }
    : { last: (await decisionsOf(db, r.id, 1))[0] };
  const { verdict, reasons } = verdictOf(r, look, history);
  return {
    verdict,
    reasons,
    model: r.model,
    rollout: r.id,
    candidate: r.candidate,
    baseline: r.baseline,
    status: r.status,
    stepIndex: r.stepIndex,
    steps: r.plan.steps.length,
    weight: r.weight,
    at: now,
    analysis: look && {
      verdict: look.judgement.verdict,
      action: look.decision.action,
      window: look.window,
      samples: look.judgement.samples,
      metrics: look.judgement.metrics.map((m) => ({ metric: m.metric, status: m.status, reason: m.reason })),
    },
  };
}
