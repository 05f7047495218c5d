/**
 * The evaluate move: two completed runs on the task's suite, the candidate's and production's,
 * judged case by case (evaluation.ts). A win moves the task to evaluated; a loss is recorded
 * on the task and audited (retraining.evaluation_failed), and the task stays.
 */
import type { CaseResult } from "../../engines/evaluation/index.ts";
import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { conflict, invalid } from "../../lib/errors.ts";
import type { Db } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import { getVersionById, productionVersionId } from "../registry/index.ts";
import { judgeCandidate } from "./evaluation.ts";
import { type Moves, refuseMove, toView } from "./moves.ts";
import type { EvaluateInput, Verdict } from "./retraining.schemas.ts";
import * as store from "./retraining.store.ts";

/** An evaluation run as this module reads it (the evals module's). */
export interface RunInfo {
  id: string;
  versionId: string;
  model: string;
  version: string;
  suiteHash: string;
  suiteName: string;
  status: string;
}

/** Evaluation runs and their case results (the evals module's). */
export interface Runs {
  get(id: string): Promise<RunInfo | null>;
  cases(id: string): Promise<CaseResult[]>;
}

export function createEvaluation({
  db,
  clock,
  runs,
  moves,
}: {
  db: Db;
  clock: Clock;
  runs: Runs;
  moves: Moves;
}) {
  const { taskOrThrow, lockTask, move } = moves;

  /** A run this task may be judged on: completed, of the version expected. */
  async function runFor(id: string, field: string, versionId: string, what: string): Promise<RunInfo> {
    const run = await runs.get(id);
    if (!run) throw invalid(field, `evaluation run ${id} does not exist`);
    if (run.status !== "completed")
      throw invalid(field, `evaluation run ${id} is ${run.status}, not completed`);
    if (run.versionId !== versionId)
      throw invalid(field, `evaluation run ${id} ran ${run.model}@${run.version}, not ${what}`);
    return run;
  }

  /**
   * Judges the candidate against production from two completed runs on the task's suite:
   * passed, the task moves to evaluated; not passed, it stays where it is and the verdict
   * (stored on the task, audited as retraining.evaluation_failed) says why.
   */
  async function evaluate(ctx: RequestContext, id: string, input: EvaluateInput) {
    const before = await taskOrThrow(db, id);
    if (before.state !== "candidate_registered") refuseMove(before, "evaluated");
    const production = await productionVersionId(db, before.modelId);
    if (!production) throw conflict(`'${before.model}' has no production version to compare with`);
    const prodVersion = (await getVersionById(db, production))!;
    const cand = await runFor(
      input.candidateRun,
      "body.candidateRun",
      before.candidateVersionId!,
      `the candidate ${before.model}@${before.candidateVersion}`,
    );
    const prod = await runFor(
      input.productionRun,
      "body.productionRun",
      production,
      `the production version ${before.model}@${prodVersion.version}`,
    );
    if (prod.suiteHash !== cand.suiteHash)
      throw invalid(
        "body.productionRun",
        `the runs ran different suites (${cand.suiteName} ${cand.suiteHash.slice(0, 15)}…, ${prod.suiteName} ${prod.suiteHash.slice(0, 15)}…)`,
      );
    if (before.suiteHash && cand.suiteHash !== before.suiteHash)
      throw invalid(
        "body.candidateRun",
        `the task's suite is ${before.suiteHash}; run ${cand.id} ran ${cand.suiteHash}`,
      );
    const judged = judgeCandidate({
      metric: before.metric,
      alpha: input.alpha,
      candidate: await runs.cases(cand.id),
      production: await runs.cases(prod.id),
    });
    const verdict: Verdict = {
      passed: judged.passed,
      metric: before.metric,
      basis: judged.basis,
      test: judged.test,
      direction: judged.direction,
      alpha: input.alpha,
      pairs: judged.pairs,
      unpaired: judged.unpaired,
      candidate: { run: cand.id, version: cand.version, value: judged.candidateValue },
      production: { run: prod.id, version: prod.version, value: judged.productionValue },
      difference: judged.difference,
      p: judged.p,
      details: judged.details,
      suite: { name: cand.suiteName, hash: cand.suiteHash },
      reasons: judged.reasons,
      at: clock.now().toISOString(),
    };
    return db.transaction(async (tx) => {
      const t = await lockTask(tx, id);
      // What was read above still holds: same state, same candidate, same production.
      if (t.state !== "candidate_registered") refuseMove(t, "evaluated");
      if (t.candidateVersionId !== before.candidateVersionId)
        throw conflict(`retraining task ${id}: its candidate changed meanwhile; evaluate again`);
      if ((await productionVersionId(tx, t.modelId)) !== production)
        throw conflict(`'${t.model}': the production version changed meanwhile; evaluate again`);
      const pin = t.suiteHash ? {} : { suiteHash: cand.suiteHash };
      if (verdict.passed) {
        const moved = await move(tx, ctx, t, "evaluated", {
          reason: verdict.reasons.join("; "),
          change: { ...pin, evaluation: verdict },
          after: { candidate: { id: t.candidateVersionId, version: t.candidateVersion }, verdict },
        });
        return { task: toView(moved), verdict };
      }
      await store.updateTask(tx, t.id, {
        state: t.state,
        at: clock.now().toISOString(),
        ...pin,
        evaluation: verdict,
      });
      await recordAudit(tx, ctx, clock.now(), {
        action: "retraining.evaluation_failed",
        subjectType: "retraining_task",
        subjectId: t.id,
        after: { state: t.state, task: t.id, model: t.model, candidate: t.candidateVersion, verdict },
        reason: verdict.reasons.join("; "),
      });
      return { task: toView((await store.getTask(tx, t.id))!), verdict };
    });
  }

  return evaluate;
}
