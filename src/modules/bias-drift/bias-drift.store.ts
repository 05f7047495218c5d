/** SQL for the bias-drift series (migration 20261126010000_bias_drift.sql). */
import type { SuccessGroup } from "../../engines/fairness/index.ts";
import { newId } from "../../lib/ids.ts";
import type { Queryable } from "../../store/db.ts";
import type { PointDraft } from "./bias-drift.compute.ts";

/** A stored point, with its model and version named. */
export interface PointRow extends Omit<PointDraft, "breaches"> {
  id: string;
  modelId: string;
  model: string;
  version: string;
  windowStart: Date;
  windowEnd: Date;
  alerted: boolean;
  previousGapPoints: number | null;
  computedAt: Date;
}

const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toRow(r: Record<string, unknown>): PointRow {
  return {
    id: r.id as string,
    modelId: r.model_id as string,
    model: r.model as string,
    versionId: r.version_id as string,
    version: r.version as string,
    windowStart: new Date(r.window_start as string),
    windowEnd: new Date(r.window_end as string),
    attribute: r.attribute as string,
    n: Number(r.n),
    unassigned: Number(r.unassigned),
    groups: r.groups as SuccessGroup[],
    gapPoints: numOrNull(r.gap_points),
    ratio: numOrNull(r.ratio),
    thresholdPoints: numOrNull(r.threshold_points),
    minRatio: numOrNull(r.min_ratio),
    minGroupSize: Number(r.min_group_size),
    breached: r.breached as boolean,
    alerted: r.alerted as boolean,
    previousGapPoints: numOrNull(r.previous_gap_points),
    reasons: r.reasons as string[],
    computedAt: new Date(r.computed_at as string),
  };
}

const COLS = `p.id, p.model_id, m.name AS model, p.version_id, v.version, p.window_start, p.window_end,
  p.attribute, p.n, p.unassigned, p.groups, p.gap_points, p.ratio, p.threshold_points, p.min_ratio,
  p.min_group_size, p.breached, p.alerted, p.previous_gap_points, p.reasons, p.computed_at`;
const FROM = `bias_drift_points p JOIN models m ON m.id = p.model_id
  JOIN model_versions v ON v.id = p.version_id`;

/** The latest point before `before` of this version and attribute that has a gap (was judged on data). */
export async function previousJudged(q: Queryable, versionId: string, attribute: string, before: Date) {
  const rows = await q.query<{ gap_points: number; breached: boolean }>(
    `SELECT gap_points, breached FROM bias_drift_points
      WHERE version_id = $1 AND attribute = $2 AND window_start < $3 AND gap_points IS NOT NULL
      ORDER BY window_start DESC LIMIT 1`,
    [versionId, attribute, before.toISOString()],
  );
  const r = rows[0];
  return r ? { gapPoints: Number(r.gap_points), breached: r.breached } : null;
}

/** Inserts a point once; returns its id, or null when the window already has it. */
export async function insertPoint(
  q: Queryable,
  p: Omit<PointDraft, "breaches"> & {
    modelId: string;
    windowStart: Date;
    windowEnd: Date;
    alerted: boolean;
    previousGapPoints: number | null;
    computedAt: Date;
  },
): Promise<string | null> {
  const rows = await q.query<{ id: string }>(
    `INSERT INTO bias_drift_points (id, model_id, version_id, window_start, window_end, attribute, n,
       unassigned, groups, gap_points, ratio, threshold_points, min_ratio, min_group_size, breached,
       alerted, previous_gap_points, reasons, computed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
     ON CONFLICT (version_id, attribute, window_start) DO NOTHING
     RETURNING id`,
    [
      newId("bdp"),
      p.modelId,
      p.versionId,
      p.windowStart.toISOString(),
      p.windowEnd.toISOString(),
      p.attribute,
      p.n,
      p.unassigned,
      JSON.stringify(p.groups),
      p.gapPoints,
      p.ratio,
      p.thresholdPoints,
      p.minRatio,
      p.minGroupSize,
      p.breached,
      p.alerted,
      p.previousGapPoints,
      JSON.stringify(p.reasons),
      p.computedAt.toISOString(),
    ],
  );
  return rows[0]?.id ?? null;
}

export async function getPoints(q: Queryable, ids: readonly string[]): Promise<PointRow[]> {
  if (ids.length === 0) return [];
  const rows = await q.query(
    `SELECT ${COLS} FROM ${FROM} WHERE p.id = ANY($1) ORDER BY p.window_start, v.version, p.attribute`,
    [ids],
  );
  return rows.map(toRow);
}

export interface SeriesFilter {
  modelId: string;
  versionId?: string;
  attribute?: string;
  from?: Date;
  to?: Date;
  limit: number;
}

/** The newest `limit` points matching, in time order (oldest first). */
export async function listPoints(q: Queryable, f: SeriesFilter): Promise<PointRow[]> {
  const rows = await q.query(
    `SELECT * FROM (
       SELECT ${COLS} FROM ${FROM}
        WHERE p.model_id = $1
          AND ($2::text IS NULL OR p.version_id = $2)
          AND ($3::text IS NULL OR p.attribute = $3)
          AND ($4::timestamptz IS NULL OR p.window_start >= $4)
          AND ($5::timestamptz IS NULL OR p.window_end <= $5)
        ORDER BY p.window_start DESC, v.version DESC, p.attribute DESC
        LIMIT $6) s
      ORDER BY window_start, version, attribute`,
    [
      f.modelId,
      f.versionId ?? null,
      f.attribute ?? null,
      f.from?.toISOString() ?? null,
      f.to?.toISOString() ?? null,
      f.limit,
    ],
  );
  return rows.map(toRow);
}

/** Which of these windows the job has already been through. */
export async function windowsDone(
  q: Queryable,
  starts: readonly Date[],
  windowMs: number,
): Promise<Set<number>> {
  if (starts.length === 0) return new Set();
  const rows = await q.query<{ window_start: string | Date }>(
    `SELECT window_start FROM bias_drift_windows
      WHERE window_start = ANY($1::timestamptz[]) AND window_end - window_start = $2::interval`,
    [starts.map((s) => s.toISOString()), `${windowMs} milliseconds`],
  );
  return new Set(rows.map((r) => new Date(r.window_start).getTime()));
}

export async function markWindow(q: Queryable, from: Date, to: Date, models: number, at: Date) {
  await q.query(
    `INSERT INTO bias_drift_windows (window_start, window_end, models, computed_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING`,
    [from.toISOString(), to.toISOString(), models, at.toISOString()],
  );
}
