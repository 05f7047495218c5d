import { decide, judge } from "../../engines/rollout/index.ts";
import type { Decision, Judgement } from "../../engines/rollout/types.ts";
import type { Queryable } from "../../store/db.ts";
import { mirrorWindow, windowMetrics } from "../request-log/index.ts";
import type { RolloutRow } from "./rollouts.store.ts";

export interface StepAnalysis {
  judgement: Judgement;
  decision: Decision;
  /** The window judged: the current step so far (the baseline's reference differs at a 100% step). */
  window: { from: Date; to: Date };
}

/**
 * One look at a rollout's current step, as the controller takes it at every interval: the
 * step's window for baseline and candidate, the judge, and the step machine's decision. Reads
 * only; the controller applies the decision (rollouts.service analyze), the verdict endpoint
 * reports it.
 */
export async function analyseStep(q: Queryable, r: RolloutRow, now: Date): Promise<StepAnalysis> {
  const until = new Date(now.getTime() + 1);
  const windows = await windowMetrics(
    q,
    r.model,
    [r.baselineVersionId, r.candidateVersionId],
    r.stepStartedAt,
    until,
  );
  // At a 100% step the baseline gets no traffic: its reference is the rollout so far.
  const full = r.mode === "canary" && (r.plan.steps[r.stepIndex]?.weight ?? 0) >= 100;
  const baseline = full
    ? (await windowMetrics(q, r.model, [r.baselineVersionId], r.startedAt, r.stepStartedAt)).get(
        r.baselineVersionId,
      )!
    : windows.get(r.baselineVersionId)!;
  // Blue-green: the candidate serves nothing; its answers to the mirrored copy are judged.
  const candidate =
    r.mode === "blue_green"
      ? await mirrorWindow(q, r.model, r.candidateVersionId, r.stepStartedAt, until)
      : windows.get(r.candidateVersionId)!;
  const judgement = judge(r.plan, baseline, candidate, { stepIndex: r.stepIndex, concurrent: !full });
  const decision = decide(
    {
      plan: r.plan,
      stepIndex: r.stepIndex,
      stepStartedAt: r.stepStartedAt.getTime(),
      consecutiveFailures: r.consecutiveFailures,
      paused: r.status === "paused",
    },
    judgement,
    now.getTime(),
  );
  return { judgement, decision, window: { from: r.stepStartedAt, to: now } };
}
