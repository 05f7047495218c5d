/**
 * How a retraining task moves: where each state may go, what the audit action of each move is
 * called, and the one function that makes a move (the task's row, its history row and its
 * audit event, in the caller's transaction), refusing one the state does not allow.
 */
import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { AppError, notFound } from "../../lib/errors.ts";
import type { Queryable, Tx } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import { lockModelNoKeyUpdate } from "../registry/index.ts";
import type { EvidenceView, TaskState, TaskView } from "./retraining.schemas.ts";
import * as store from "./retraining.store.ts";

/** Where each state may go. A new candidate may replace one not yet rolled out (a retry). */
export const NEXT: Record<TaskState, readonly TaskState[]> = {
  open: ["training", "dismissed"],
  training: ["candidate_registered", "dismissed"],
  candidate_registered: ["candidate_registered", "evaluated", "dismissed"],
  evaluated: ["candidate_registered", "approved", "dismissed"],
  approved: ["candidate_registered", "rolled_out", "dismissed"],
  rolled_out: ["closed", "dismissed"],
  closed: [],
  dismissed: [],
};

/** What the audit action of a move to each state is called. */
export const ACTION: Record<TaskState, string> = {
  open: "retraining.opened",
  training: "retraining.training",
  candidate_registered: "retraining.candidate_registered",
  evaluated: "retraining.evaluated",
  approved: "retraining.approved",
  rolled_out: "retraining.rolled_out",
  closed: "retraining.closed",
  dismissed: "retraining.dismissed",
};

export function toView(t: store.TaskRow): TaskView {
  return {
    id: t.id,
    model: t.model,
    version: t.version,
    state: t.state,
    next: [...NEXT[t.state]],
    rule: t.rule,
    metric: t.metric,
    suiteHash: t.suiteHash,
    candidate:
      t.candidateVersionId && t.candidateVersion
        ? { id: t.candidateVersionId, version: t.candidateVersion }
        : null,
    evaluation: t.evaluation,
    resolution: t.resolution,
    evidenceCount: t.evidenceCount,
    summary: t.summary,
    openedBy: t.openedBy,
    openedAt: t.openedAt,
    updatedAt: t.updatedAt,
    endedAt: t.endedAt,
  };
}

export const evidenceView = ({ versionId: _, ...e }: store.EvidenceRow): EvidenceView => e;

export function refuseMove(t: store.TaskRow, to: TaskState): never {
  const allowed = NEXT[t.state];
  throw new AppError(
    "conflict",
    `retraining task ${t.id} is ${t.state}: it cannot move to ${to}; ${allowed.length ? `next: ${allowed.join(", ")}` : "it is final"}`,
    { errors: [{ field: "state", reason: `illegal transition ${t.state} → ${to}` }], details: { allowed } },
  );
}

export function createMoves(clock: Clock) {
  async function taskOrThrow(q: Queryable, id: string, forUpdate = false) {
    const t = await store.getTask(q, id, forUpdate);
    if (!t) throw notFound(`retraining task '${id}'`);
    return t;
  }

  /** The task, its model's row and then its own locked, in that order (every writer takes them so). */
  async function lockTask(tx: Tx, id: string) {
    const t = await taskOrThrow(tx, id);
    await lockModelNoKeyUpdate(tx, t.modelId);
    return taskOrThrow(tx, id, true);
  }

  /** One move: the task's row, the transition, the audit event; refused when the state does not allow it. */
  async function move(
    tx: Tx,
    ctx: RequestContext,
    t: store.TaskRow,
    to: TaskState,
    opts: {
      reason: string;
      change?: Omit<Parameters<typeof store.updateTask>[2], "state" | "at">;
      after?: Record<string, unknown>;
    },
  ): Promise<store.TaskRow> {
    if (!NEXT[t.state].includes(to)) refuseMove(t, to);
    const at = clock.now().toISOString();
    await store.updateTask(tx, t.id, { state: to, at, ...opts.change });
    await store.insertTransition(tx, {
      taskId: t.id,
      from: t.state,
      to,
      reason: opts.reason,
      actor: ctx.actor,
      at,
    });
    await recordAudit(tx, ctx, clock.now(), {
      action: ACTION[to],
      subjectType: "retraining_task",
      subjectId: t.id,
      before: { state: t.state },
      after: { state: to, task: t.id, model: t.model, version: t.version, ...opts.after },
      reason: opts.reason,
    });
    return (await store.getTask(tx, t.id))!;
  }

  return { taskOrThrow, lockTask, move };
}

export type Moves = ReturnType<typeof createMoves>;
