/** SQL for retraining tasks (migration 20261209100000_retraining.sql). */
import { newId } from "../../lib/ids.ts";
import type { Queryable } from "../../store/db.ts";
import type { EvidenceView, TaskState, Verdict } from "./retraining.schemas.ts";

type Row = Record<string, unknown>;
const iso = (d: unknown) => (d == null ? null : new Date(d as string).toISOString());

export interface TaskRow {
  id: string;
  modelId: string;
  model: string;
  versionId: string;
  version: string;
  state: TaskState;
  rule: string;
  metric: string;
  suiteHash: string | null;
  candidateVersionId: string | null;
  candidateVersion: string | null;
  evaluation: Verdict | null;
  resolution: string | null;
  evidenceCount: number;
  /** The latest evidence's summary, in the monitor's words. */
  summary: string | null;
  openedBy: string;
  openedAt: string;
  updatedAt: string;
  endedAt: string | null;
}

const TASK_COLS = `t.id, t.model_id, m.name AS model, t.version_id, v.version, t.state, t.rule, t.metric,
  t.suite_hash, t.candidate_version_id, c.version AS candidate_version, t.evaluation, t.resolution,
  (SELECT count(*)::int FROM retraining_evidence e WHERE e.task_id = t.id) AS evidence_count,
  (SELECT e.evidence->>'summary' FROM retraining_evidence e WHERE e.task_id = t.id
    ORDER BY e.added_at DESC, e.id DESC LIMIT 1) AS summary,
  t.opened_by, t.opened_at, t.updated_at, t.ended_at`;
const TASK_FROM = `retraining_tasks t JOIN models m ON m.id = t.model_id
  JOIN model_versions v ON v.id = t.version_id
  LEFT JOIN model_versions c ON c.id = t.candidate_version_id`;

const toTask = (r: Row): TaskRow => ({
  id: r.id as string,
  modelId: r.model_id as string,
  model: r.model as string,
  versionId: r.version_id as string,
  version: r.version as string,
  state: r.state as TaskState,
  rule: r.rule as string,
  metric: r.metric as string,
  suiteHash: (r.suite_hash as string | null) ?? null,
  candidateVersionId: (r.candidate_version_id as string | null) ?? null,
  candidateVersion: (r.candidate_version as string | null) ?? null,
  evaluation: (r.evaluation as Verdict | null) ?? null,
  resolution: (r.resolution as string | null) ?? null,
  evidenceCount: Number(r.evidence_count),
  summary: (r.summary as string | null) ?? null,
  openedBy: r.opened_by as string,
  openedAt: iso(r.opened_at)!,
  updatedAt: iso(r.updated_at)!,
  endedAt: iso(r.ended_at),
});

/** `forUpdate` locks the task's row (callers lock the model's row first: one order, no deadlock). */
export async function getTask(q: Queryable, id: string, forUpdate = false): Promise<TaskRow | null> {
  if (forUpdate) await q.query("SELECT id FROM retraining_tasks WHERE id = $1 FOR UPDATE", [id]);
  const rows = await q.query<Row>(`SELECT ${TASK_COLS} FROM ${TASK_FROM} WHERE t.id = $1`, [id]);
  return rows[0] ? toTask(rows[0]) : null;
}

/** The model's task in a state before closed or dismissed (at most one: a unique index holds it). */
export async function openTaskOf(q: Queryable, modelId: string, forUpdate = false): Promise<TaskRow | null> {
  const ids = await q.query<{ id: string }>(
    `SELECT id FROM retraining_tasks WHERE model_id = $1 AND state NOT IN ('closed', 'dismissed')
     ${forUpdate ? "FOR UPDATE" : ""}`,
    [modelId],
  );
  return ids[0] ? getTask(q, ids[0].id) : null;
}

/** Tasks whose candidate is this version, in a state before closed or dismissed. */
export async function openTasksWithCandidate(q: Queryable, versionId: string): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    `SELECT id FROM retraining_tasks WHERE candidate_version_id = $1 AND state NOT IN ('closed', 'dismissed')`,
    [versionId],
  );
  return rows.map((r) => r.id);
}

export async function insertTask(
  q: Queryable,
  t: {
    id: string;
    modelId: string;
    versionId: string;
    rule: string;
    metric: string;
    openedBy: string;
    at: string;
  },
): Promise<void> {
  await q.query(
    `INSERT INTO retraining_tasks (id, model_id, version_id, state, rule, metric, opened_by, opened_at, updated_at)
     VALUES ($1, $2, $3, 'open', $4, $5, $6, $7, $7)`,
    [t.id, t.modelId, t.versionId, t.rule, t.metric, t.openedBy, t.at],
  );
}

/** Changes what a move changes: the state, and whichever of the other fields it sets. */
export async function updateTask(
  q: Queryable,
  id: string,
  change: {
    state: TaskState;
    at: string;
    suiteHash?: string | null;
    candidateVersionId?: string | null;
    evaluation?: Verdict | null;
    resolution?: string | null;
  },
): Promise<void> {
  const ended = change.state === "closed" || change.state === "dismissed";
  await q.query(
    `UPDATE retraining_tasks SET state = $2, updated_at = $3,
       ended_at = CASE WHEN $4 THEN $3::timestamptz ELSE NULL END,
       suite_hash = CASE WHEN $5 THEN $6 ELSE suite_hash END,
       candidate_version_id = CASE WHEN $7 THEN $8 ELSE candidate_version_id END,
       evaluation = CASE WHEN $9 THEN $10::jsonb ELSE evaluation END,
       resolution = CASE WHEN $11 THEN $12 ELSE resolution END
     WHERE id = $1`,
    [
      id,
      change.state,
      change.at,
      ended,
      change.suiteHash !== undefined,
      change.suiteHash ?? null,
      change.candidateVersionId !== undefined,
      change.candidateVersionId ?? null,
      change.evaluation !== undefined,
      change.evaluation == null ? null : JSON.stringify(change.evaluation),
      change.resolution !== undefined,
      change.resolution ?? null,
    ],
  );
}

export async function insertTransition(
  q: Queryable,
  t: { taskId: string; from: TaskState | null; to: TaskState; reason: string; actor: string; at: string },
): Promise<void> {
  await q.query(
    `INSERT INTO retraining_transitions (id, task_id, from_state, to_state, reason, actor, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [newId("rtt"), t.taskId, t.from, t.to, t.reason, t.actor, t.at],
  );
}

export async function transitionsOf(q: Queryable, taskId: string) {
  const rows = await q.query<Row>(
    `SELECT from_state, to_state, reason, actor, at FROM retraining_transitions WHERE task_id = $1
      ORDER BY at, id`,
    [taskId],
  );
  return rows.map((r) => ({
    from: (r.from_state as TaskState | null) ?? null,
    to: r.to_state as TaskState,
    reason: r.reason as string,
    actor: r.actor as string,
    at: iso(r.at)!,
  }));
}

export interface EvidenceRow extends EvidenceView {
  versionId: string;
}

const EVIDENCE_COLS = `e.id, e.version_id, v.version, e.rule, e.metric, e.evidence, e.window_from, e.window_to,
  e.added_by, e.added_at`;

const toEvidence = (r: Row): EvidenceRow => ({
  id: r.id as string,
  versionId: r.version_id as string,
  version: r.version as string,
  rule: r.rule as string,
  metric: r.metric as string,
  evidence: r.evidence as Record<string, unknown>,
  windowFrom: iso(r.window_from)!,
  windowTo: iso(r.window_to)!,
  addedBy: r.added_by as string,
  addedAt: iso(r.added_at)!,
});

export async function insertEvidence(
  q: Queryable,
  e: {
    taskId: string;
    versionId: string;
    rule: string;
    metric: string;
    evidence: Record<string, unknown>;
    windowFrom: string;
    windowTo: string;
    addedBy: string;
    at: string;
  },
): Promise<EvidenceRow> {
  const id = newId("rte");
  await q.query(
    `INSERT INTO retraining_evidence (id, task_id, version_id, rule, metric, evidence, window_from, window_to,
       added_by, added_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      id,
      e.taskId,
      e.versionId,
      e.rule,
      e.metric,
      JSON.stringify(e.evidence),
      e.windowFrom,
      e.windowTo,
      e.addedBy,
      e.at,
    ],
  );
  const rows = await q.query<Row>(
    `SELECT ${EVIDENCE_COLS} FROM retraining_evidence e JOIN model_versions v ON v.id = e.version_id
      WHERE e.id = $1`,
    [id],
  );
  return toEvidence(rows[0]!);
}

/** The latest `limit` entries of a task, oldest first. */
export async function latestEvidence(q: Queryable, taskId: string, limit: number): Promise<EvidenceRow[]> {
  const rows = await q.query<Row>(
    `SELECT * FROM (
       SELECT ${EVIDENCE_COLS} FROM retraining_evidence e JOIN model_versions v ON v.id = e.version_id
        WHERE e.task_id = $1 ORDER BY e.added_at DESC, e.id DESC LIMIT $2) s
      ORDER BY added_at, id`,
    [taskId, limit],
  );
  return rows.map(toEvidence);
}

/** Every entry of a task, page by page (the dataset export reads all their windows). */
export async function* allEvidence(q: Queryable, taskId: string, page = 500): AsyncGenerator<EvidenceRow> {
  let after: { at: string; id: string } | null = null;
  for (;;) {
    const rows: Row[] = await q.query<Row>(
      `SELECT ${EVIDENCE_COLS} FROM retraining_evidence e JOIN model_versions v ON v.id = e.version_id
        WHERE e.task_id = $1 AND ($2::timestamptz IS NULL OR (e.added_at, e.id) > ($2::timestamptz, $3::text))
        ORDER BY e.added_at, e.id LIMIT $4`,
      [taskId, after?.at ?? null, after?.id ?? "", page],
    );
    const items = rows.map(toEvidence);
    yield* items;
    const last = items[items.length - 1];
    if (!last || items.length < page) return;
    after = { at: last.addedAt, id: last.id };
  }
}

export interface TaskFilter {
  modelId?: string;
  state?: TaskState | "active";
  /** Keyset: tasks opened before this (opened_at, id), newest first. */
  before?: { at: string; id: string };
  limit: number;
}

export async function listTasks(q: Queryable, f: TaskFilter): Promise<TaskRow[]> {
  const rows = await q.query<Row>(
    `SELECT ${TASK_COLS} FROM ${TASK_FROM}
      WHERE ($1::text IS NULL OR t.model_id = $1)
        AND ($2::text IS NULL OR ($2 = 'active' AND t.state NOT IN ('closed', 'dismissed')) OR t.state = $2)
        AND ($3::timestamptz IS NULL OR (t.opened_at, t.id) < ($3::timestamptz, $4::text))
      ORDER BY t.opened_at DESC, t.id DESC
      LIMIT $5`,
    [f.modelId ?? null, f.state ?? null, f.before?.at ?? null, f.before?.id ?? "", f.limit],
  );
  return rows.map(toTask);
}
