/**
 * What the registry and the approvals call inside their own transactions (services.ts wires
 * them; those modules import nothing of this one): a version registered with `retrainedFrom`,
 * an approval request approved, a version entering production.
 */
import type { RequestContext } from "../../http/context.ts";
import { AppError, invalid } from "../../lib/errors.ts";
import type { Queryable, Tx } from "../../store/db.ts";
import type { Version } from "../registry/index.ts";
import { type Moves, NEXT } from "./moves.ts";
import * as store from "./retraining.store.ts";

/** Whether the version has an approval in force now (the approvals module's gate). */
export type ApprovalOf = (
  q: Queryable,
  versionId: string,
) => Promise<{ ok: boolean; requestId: string | null; unmet: { requirement: string; reason: string }[] }>;

export function createHooks({ moves, approvalOf }: { moves: Moves; approvalOf: ApprovalOf }) {
  const { taskOrThrow, move } = moves;

  /** A version registered with `retrainedFrom` answers this task: may it? (before the version is written) */
  async function checkCandidate(tx: Tx, model: { id: string; name: string }, taskId: string) {
    const field = "body.retrainedFrom.task";
    const t = await store.getTask(tx, taskId, true);
    if (!t) throw invalid(field, `retraining task ${taskId} does not exist`);
    if (t.modelId !== model.id)
      throw invalid(field, `retraining task ${taskId} is about model '${t.model}', not '${model.name}'`);
    if (!NEXT[t.state].includes("candidate_registered"))
      throw new AppError(
        "conflict",
        t.state === "open"
          ? `retraining task ${taskId} is open: start training first (modelgov retraining start-training ${taskId})`
          : `retraining task ${taskId} is ${t.state}: it takes no candidate now`,
        { errors: [{ field, reason: `task is ${t.state}` }], details: { allowed: NEXT[t.state] } },
      );
  }

  /** The version is written: the task records its candidate; an earlier verdict no longer stands. */
  async function candidateRegistered(tx: Tx, ctx: RequestContext, v: Version) {
    const t = await taskOrThrow(tx, v.retrainedFrom!.task, true);
    const replaced = t.candidateVersion;
    await move(tx, ctx, t, "candidate_registered", {
      reason: `${v.model}@${v.version} registered, retrained from ${v.retrainedFrom!.version}${replaced ? ` (replaces ${replaced})` : ""}`,
      change: { candidateVersionId: v.id, evaluation: null },
      after: {
        candidate: { id: v.id, version: v.version },
        retrainedFrom: v.retrainedFrom!.version,
        replaced: replaced ?? null,
      },
    });
  }

  /** From evaluated to approved, when the candidate's approval is in force; quietly nothing otherwise. */
  async function approveIfDue(tx: Tx, ctx: RequestContext, t: store.TaskRow, requestId: string | null) {
    if (t.state !== "evaluated") return t;
    return move(tx, ctx, t, "approved", {
      reason: `${t.model}@${t.candidateVersion} approved${requestId ? ` (approval ${requestId})` : ""}`,
      after: { candidate: { id: t.candidateVersionId, version: t.candidateVersion }, approval: requestId },
    });
  }

  /** The approvals module's hook: a candidate's approval request was just approved. */
  async function onApproved(tx: Tx, ctx: RequestContext, versionId: string, requestId: string) {
    for (const id of await store.openTasksWithCandidate(tx, versionId))
      await approveIfDue(tx, ctx, await taskOrThrow(tx, id, true), requestId);
  }

  /**
   * The registry's hook: a version entered production. A task whose approved candidate it is
   * moves to rolled_out; one still at evaluated whose candidate's approval came first (and is
   * in force, or it could not be promoted) records the approval, then the roll-out.
   */
  async function onEnteredProduction(tx: Tx, ctx: RequestContext, v: Version) {
    for (const id of await store.openTasksWithCandidate(tx, v.id)) {
      let t = await taskOrThrow(tx, id, true);
      if (t.state === "evaluated") {
        const gate = await approvalOf(tx, v.id);
        if (gate.ok) t = await approveIfDue(tx, ctx, t, gate.requestId);
      }
      if (t.state === "approved")
        await move(tx, ctx, t, "rolled_out", {
          reason: `${v.model}@${v.version} is now the production version`,
          after: { candidate: { id: v.id, version: v.version } },
        });
    }
  }

  return {
    retrainedCandidate: { check: checkCandidate, registered: candidateRegistered },
    approveIfDue,
    onApproved,
    onEnteredProduction,
  };
}
