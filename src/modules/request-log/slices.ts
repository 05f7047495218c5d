import type { Queryable } from "../../store/db.ts";
import { FEEDBACK_SKEW_MS } from "./rollup.ts";

/**
 * The failing slice of a model's traffic: the raw requests of some versions over some time
 * ranges whose latest feedback says the answer failed (success false, or a score below a
 * bound), with the body the body policy kept and the latest correction a caller sent. A
 * retraining task exports it as a fine-tuning set or an evaluation suite.
 *
 * A request counts for the version its route chose (`routed_version_id`), as every analysis
 * of the log does; shadow (mirrored) calls are left out. The latest feedback per request is
 * the latest by time (then id), from any client, as the roll-ups take it.
 */
export interface SliceRange {
  versionId: string;
  from: Date;
  to: Date;
}

export interface SliceFilter {
  model: string;
  /** Merged beforehand: a request in two overlapping ranges would otherwise count once anyway. */
  ranges: readonly SliceRange[];
  /** Also a request whose latest feedback has no `success` but a score below this. */
  scoreBelow?: number | undefined;
}

export interface SliceRow {
  id: string;
  at: Date;
  versionId: string;
  /** The version that answered (a fallback may have served a request routed elsewhere). */
  answeredBy: string | null;
  groups: Record<string, string> | null;
  /** `{ request, response }` as the gateway kept it, or null when the body policy kept none. */
  sampledBody: { request?: unknown; response?: unknown } | null;
  success: boolean | null;
  score: number | null;
  labels: string[];
  comment: string;
  /** The latest correction any feedback on the request carried. */
  correction: string | null;
}

export interface SliceCounts {
  /** Requests in the ranges whose latest feedback failed them. */
  failing: number;
  /** Of those, the ones whose body was kept (the ones an export can hold). */
  withBody: number;
  withoutBody: number;
  /** Of those with a body, the ones with a correction. */
  corrected: number;
}

const ranges = (f: SliceFilter) =>
  JSON.stringify(f.ranges.map((r) => ({ v: r.versionId, f: r.from.toISOString(), t: r.to.toISOString() })));

const bounds = (f: SliceFilter) => ({
  from: new Date(Math.min(...f.ranges.map((r) => r.from.getTime()))).toISOString(),
  to: new Date(Math.max(...f.ranges.map((r) => r.to.getTime()))).toISOString(),
});

/**
 * The failing requests with their latest feedback and latest correction. $1 model, $2 ranges
 * (JSON), $3 the overall start and $4 end (so the partitions outside are skipped), $5 the
 * score bound. The skew lets feedback stamped a little before its request count (replicas'
 * clocks differ), as the roll-ups allow.
 */
const FAILING = `
  SELECT r.id, r.at, r.routed_version_id, r.version_id, r.groups, r.sampled_body,
         f.success, f.score, f.labels, f.comment, c.correction
    FROM request_log r
    JOIN LATERAL (SELECT success, score, labels, comment FROM feedback
                   WHERE request_id = r.id AND at >= r.at - interval '${FEEDBACK_SKEW_MS} milliseconds'
                   ORDER BY at DESC, id DESC LIMIT 1) f ON true
    LEFT JOIN LATERAL (SELECT correction FROM feedback
                        WHERE request_id = r.id AND at >= r.at - interval '${FEEDBACK_SKEW_MS} milliseconds'
                          AND correction IS NOT NULL
                        ORDER BY at DESC, id DESC LIMIT 1) c ON true
   WHERE r.model = $1 AND r.shadow_of IS NULL AND r.at >= $3 AND r.at < $4
     AND EXISTS (SELECT 1 FROM jsonb_to_recordset($2::jsonb) AS g(v text, f timestamptz, t timestamptz)
                  WHERE r.routed_version_id = g.v AND r.at >= g.f AND r.at < g.t)
     AND (f.success = false OR (f.success IS NULL AND $5::float8 IS NOT NULL AND f.score < $5::float8))`;

export async function failingSliceCounts(q: Queryable, f: SliceFilter): Promise<SliceCounts> {
  if (f.ranges.length === 0) return { failing: 0, withBody: 0, withoutBody: 0, corrected: 0 };
  const b = bounds(f);
  const rows = await q.query<{ failing: number; with_body: number; corrected: number }>(
    `SELECT count(*)::int AS failing,
            count(*) FILTER (WHERE s.sampled_body IS NOT NULL)::int AS with_body,
            count(*) FILTER (WHERE s.sampled_body IS NOT NULL AND s.correction IS NOT NULL)::int AS corrected
       FROM (${FAILING}) s`,
    [f.model, ranges(f), b.from, b.to, f.scoreBelow ?? null],
  );
  const r = rows[0] ?? { failing: 0, with_body: 0, corrected: 0 };
  return {
    failing: Number(r.failing),
    withBody: Number(r.with_body),
    withoutBody: Number(r.failing) - Number(r.with_body),
    corrected: Number(r.corrected),
  };
}

/**
 * One page of the failing requests whose body was kept, in (at, id) order after `after`:
 * an export reads the slice page by page and never holds it whole.
 */
export async function failingSlicePage(
  q: Queryable,
  f: SliceFilter,
  after: { at: Date; id: string } | null,
  limit: number,
): Promise<SliceRow[]> {
  if (f.ranges.length === 0) return [];
  const b = bounds(f);
  const rows = await q.query<Record<string, unknown>>(
    `SELECT * FROM (${FAILING}) s
      WHERE s.sampled_body IS NOT NULL
        AND ($6::timestamptz IS NULL OR (s.at, s.id) > ($6::timestamptz, $7::text))
      ORDER BY s.at, s.id
      LIMIT $8`,
    [
      f.model,
      ranges(f),
      b.from,
      b.to,
      f.scoreBelow ?? null,
      after?.at.toISOString() ?? null,
      after?.id ?? "",
      limit,
    ],
  );
  return rows.map((r) => ({
    id: r.id as string,
    at: new Date(r.at as string),
    versionId: r.routed_version_id as string,
    answeredBy: (r.version_id as string | null) ?? null,
    groups: (r.groups as Record<string, string> | null) ?? null,
    sampledBody: (r.sampled_body as SliceRow["sampledBody"]) ?? null,
    success: (r.success as boolean | null) ?? null,
    score: r.score === null || r.score === undefined ? null : Number(r.score),
    labels: (r.labels as string[] | null) ?? [],
    comment: (r.comment as string | null) ?? "",
    correction: (r.correction as string | null) ?? null,
  }));
}
