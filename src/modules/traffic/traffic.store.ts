import type { Queryable } from "../../store/db.ts";
import { type TrafficTarget, TrafficTargetSchema } from "./traffic.schemas.ts";

type Row = Record<string, unknown>;
const iso = (d: unknown) =>
  d == null ? null : d instanceof Date ? d.toISOString() : new Date(String(d)).toISOString();
const json = <T>(v: unknown): T | null =>
  v == null ? null : typeof v === "string" ? (JSON.parse(v) as T) : (v as T);

export interface TargetRow {
  modelId: string;
  model: string;
  target: TrafficTarget;
  updatedAt: string;
  updatedBy: string;
  applied: Record<string, number> | null;
  appliedAt: string | null;
  resourceVersion: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  failures: number;
  nextAttemptAt: string | null;
  /** The weights the last failed attempt tried to write (null when none was computed). */
  attempted: Record<string, number> | null;
  /** What the gateway serves now, read in the same statement (one snapshot). */
  split: { version: string; weight: number }[] | null;
  production: string | null;
}

// The split (the gateway's route config) and the production alias are read here, in the same
// statement as the target, rather than through their modules: one statement is one snapshot,
// so a promotion (alias moved and split cleared in one transaction) is never seen half done.
const SELECT = `
  SELECT t.*, m.name AS model, r.split AS split,
         (SELECT v.version FROM aliases a JOIN model_versions v ON v.id = a.version_id
           WHERE a.model_id = t.model_id AND a.alias = 'production') AS production
    FROM traffic_targets t
    JOIN models m ON m.id = t.model_id
    LEFT JOIN model_routes r ON r.model_id = t.model_id`;

function toRow(r: Row): TargetRow {
  return {
    modelId: String(r.model_id),
    model: String(r.model),
    target: TrafficTargetSchema.parse(json(r.target)),
    updatedAt: iso(r.updated_at)!,
    updatedBy: String(r.updated_by),
    applied: json(r.applied),
    appliedAt: iso(r.applied_at),
    resourceVersion: (r.resource_version as string | null) ?? null,
    lastError: (r.last_error as string | null) ?? null,
    lastErrorAt: iso(r.last_error_at),
    failures: Number(r.failures ?? 0),
    nextAttemptAt: iso(r.next_attempt_at),
    attempted: json(r.attempted),
    split: json(r.split),
    production: (r.production as string | null) ?? null,
  };
}

export async function allTargets(q: Queryable): Promise<TargetRow[]> {
  return (await q.query<Row>(`${SELECT} ORDER BY m.name`)).map(toRow);
}

export async function targetOf(q: Queryable, modelId: string): Promise<TargetRow | null> {
  const rows = await q.query<Row>(`${SELECT} WHERE t.model_id = $1`, [modelId]);
  return rows[0] ? toRow(rows[0]) : null;
}

/** A new or changed target starts unsynced: what was applied belonged to the old one. */
export async function upsertTarget(
  q: Queryable,
  modelId: string,
  target: TrafficTarget,
  at: string,
  by: string,
) {
  await q.query(
    `INSERT INTO traffic_targets (model_id, target, updated_at, updated_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT (model_id) DO UPDATE SET target = EXCLUDED.target, updated_at = EXCLUDED.updated_at,
       updated_by = EXCLUDED.updated_by, applied = NULL, applied_at = NULL, resource_version = NULL,
       last_error = NULL, last_error_at = NULL, failures = 0, next_attempt_at = NULL, attempted = NULL`,
    [modelId, JSON.stringify(target), at, by],
  );
}

export async function deleteTarget(q: Queryable, modelId: string): Promise<void> {
  await q.query("DELETE FROM traffic_targets WHERE model_id = $1", [modelId]);
}

/**
 * What the reconciler wrote (or found already there). Guarded by the target it applied, so a
 * target changed while the write was in flight is not marked as synced.
 */
export async function markApplied(
  q: Queryable,
  modelId: string,
  target: TrafficTarget,
  applied: Record<string, number>,
  resourceVersion: string,
  at: string,
): Promise<boolean> {
  const rows = await q.query(
    `UPDATE traffic_targets SET applied = $3, applied_at = $4, resource_version = $5, failures = 0,
            last_error = NULL, next_attempt_at = NULL, attempted = NULL
      WHERE model_id = $1 AND target = $2::jsonb RETURNING 1`,
    [modelId, JSON.stringify(target), JSON.stringify(applied), at, resourceVersion],
  );
  return rows.length > 0;
}

export async function markFailed(
  q: Queryable,
  modelId: string,
  error: string,
  at: string,
  nextAttemptAt: string,
  attempted: Record<string, number> | null,
): Promise<void> {
  await q.query(
    `UPDATE traffic_targets SET last_error = $2, last_error_at = $3, failures = failures + 1, next_attempt_at = $4,
            attempted = $5
      WHERE model_id = $1`,
    [modelId, error.slice(0, 2000), at, nextAttemptAt, attempted ? JSON.stringify(attempted) : null],
  );
}

/** Another model whose target steers the same rule of the same route, if any. */
export async function sameRouteOwner(
  q: Queryable,
  modelId: string,
  t: { kind: string; namespace: string; name: string; ruleIndex: number },
): Promise<string | null> {
  const rows = await q.query<{ name: string }>(
    `SELECT m.name FROM traffic_targets t JOIN models m ON m.id = t.model_id
      WHERE t.model_id <> $1 AND t.target->>'kind' = $2 AND t.target->>'namespace' = $3
        AND t.target->>'name' = $4 AND (t.target->>'ruleIndex')::int = $5`,
    [modelId, t.kind, t.namespace, t.name, t.ruleIndex],
  );
  return rows[0]?.name ?? null;
}
