import { LATENCY_BUCKETS_PER_DOUBLING, LATENCY_MAX_BUCKET } from "../../engines/rollout/latency.ts";
import type { ErrorCounts, VersionWindow } from "../../engines/rollout/types.ts";
import type { Queryable } from "../../store/db.ts";

/**
 * What one version did over a time window, read from the gateway's request log and the
 * feedback joined to it. A request counts for the version the route chose for it (the
 * first step of its fallback path), so a candidate's failures count against the candidate
 * even when the fallback then served the request. In the judge's shape, plus the version id.
 */
export type WindowMetrics = VersionWindow & { versionId: string };

export function emptyWindow(versionId: string): WindowMetrics {
  return {
    versionId,
    requests: 0,
    errors: 0,
    latencyP95Ms: null,
    costUsd: 0,
    costSumSquares: 0,
    latencyHistogram: [],
    feedbackCount: 0,
    successes: 0,
    scoreCount: 0,
    scoreSum: 0,
    scoreSumSquares: 0,
    groups: {},
  };
}

const REQUESTS = `
  WITH r AS (
    SELECT id, COALESCE(fallback_path->0->>'versionId', version_id) AS vid, status, error_class,
           fallback_path->0->>'outcome' AS first_outcome, total_ms, cost_usd, groups
      FROM request_log
     WHERE model = $1 AND at >= $2 AND at < $3 AND shadow_of IS NULL
  ),
  f AS (
    SELECT DISTINCT ON (request_id) request_id, success, score, groups
      FROM feedback
     WHERE request_id IN (SELECT id FROM r)
     ORDER BY request_id, at DESC
  )`;

/** The latency histogram bucket of total_ms, as `latencyBucket` computes it. */
const BUCKET = `LEAST(${LATENCY_MAX_BUCKET}, GREATEST(0, floor(${LATENCY_BUCKETS_PER_DOUBLING} * ln(GREATEST(total_ms, 1)::float8) / ln(2.0) + 1e-9)))::int`;

/** Errors as the judge counts them: a 5xx, or a first attempt that was not served. */
const IS_ERROR =
  "(status >= 500 OR (fallback_path->0->>'outcome' IS NOT NULL AND fallback_path->0->>'outcome' <> 'served'))";

/** A judged request's groups: those its feedback names, else those the request was logged with. */
const GROUPS = "CASE WHEN f.groups = '{}'::jsonb THEN COALESCE(r.groups, '{}'::jsonb) ELSE f.groups END";

/** The window [from, to) for the given versions of `model`; versions without traffic get zeros. */
export async function windowMetrics(
  db: Queryable,
  model: string,
  versionIds: readonly string[],
  from: Date,
  to: Date,
): Promise<Map<string, WindowMetrics>> {
  const out = new Map(versionIds.map((id) => [id, emptyWindow(id)]));
  const params = [model, from.toISOString(), to.toISOString()];
  const totals = await db.query<{
    vid: string;
    requests: number;
    errors: number;
    p95: number | null;
    cost: number | null;
    cost_sq: number | null;
    feedback: number;
    successes: number;
    scores: number;
    score_sum: number | null;
    score_sq: number | null;
  }>(
    `${REQUESTS}
     SELECT r.vid, count(*)::int AS requests,
            count(*) FILTER (WHERE r.status >= 500 OR (r.first_outcome IS NOT NULL AND r.first_outcome <> 'served'))::int AS errors,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY r.total_ms)::float8 AS p95,
            sum(r.cost_usd)::float8 AS cost,
            sum(r.cost_usd * r.cost_usd)::float8 AS cost_sq,
            count(f.success)::int AS feedback,
            count(*) FILTER (WHERE f.success)::int AS successes,
            count(f.score)::int AS scores,
            sum(f.score)::float8 AS score_sum,
            sum(f.score * f.score)::float8 AS score_sq
       FROM r LEFT JOIN f ON f.request_id = r.id
      GROUP BY r.vid`,
    params,
  );
  for (const t of totals) {
    const w = out.get(t.vid);
    if (!w) continue;
    Object.assign(w, {
      requests: t.requests,
      errors: t.errors,
      latencyP95Ms: t.p95,
      costUsd: t.cost ?? 0,
      costSumSquares: t.cost_sq ?? 0,
      feedbackCount: t.feedback,
      successes: t.successes,
      scoreCount: t.scores,
      scoreSum: t.score_sum ?? 0,
      scoreSumSquares: t.score_sq ?? 0,
    });
  }
  await addHistograms(
    db,
    out,
    `${REQUESTS} SELECT r.vid, ${BUCKET.replaceAll("total_ms", "r.total_ms")} AS b, count(*)::int AS n FROM r GROUP BY 1, 2`,
    params,
  );
  const groups = await db.query<{ vid: string; key: string; value: string; n: number; successes: number }>(
    `${REQUESTS}
     SELECT r.vid, g.key, g.value, count(*)::int AS n, count(*) FILTER (WHERE f.success)::int AS successes
       FROM r JOIN f ON f.request_id = r.id
       CROSS JOIN LATERAL jsonb_each_text(${GROUPS}) AS g
      WHERE f.success IS NOT NULL
      GROUP BY r.vid, g.key, g.value`,
    params,
  );
  for (const g of groups) {
    const w = out.get(g.vid);
    if (!w) continue;
    const all = w.groups ?? {};
    w.groups = all;
    all[g.key] = { ...all[g.key], [g.value]: { successes: g.successes, n: g.n } };
  }
  return out;
}

async function addHistograms(
  db: Queryable,
  out: Map<string, WindowMetrics>,
  sql: string,
  params: unknown[],
): Promise<void> {
  for (const row of await db.query<{ vid: string; b: number; n: number }>(sql, params)) {
    const w = out.get(row.vid);
    if (!w) continue;
    const h = w.latencyHistogram ?? [];
    w.latencyHistogram = h;
    for (let i = h.length; i <= row.b; i++) h[i] = 0;
    h[row.b] = row.n;
  }
}

/**
 * Requests and errors per version over [from, to): the fast path's reads, every second, so
 * nothing but two counts (no feedback join, no percentile).
 */
export async function errorCounts(
  db: Queryable,
  model: string,
  versionIds: readonly string[],
  from: Date,
  to: Date,
): Promise<Map<string, ErrorCounts>> {
  const out = new Map(versionIds.map((id) => [id, { requests: 0, errors: 0 }]));
  const rows = await db.query<{ vid: string; requests: number; errors: number }>(
    `SELECT COALESCE(fallback_path->0->>'versionId', version_id) AS vid, count(*)::int AS requests,
            count(*) FILTER (WHERE ${IS_ERROR})::int AS errors
       FROM request_log
      WHERE model = $1 AND at >= $2 AND at < $3 AND shadow_of IS NULL
      GROUP BY 1`,
    [model, from.toISOString(), to.toISOString()],
  );
  for (const r of rows) if (out.has(r.vid)) out.set(r.vid, { requests: r.requests, errors: r.errors });
  return out;
}

/** Judged requests of one version over a window that share one set of groups, counted. */
export interface GroupOutcomes {
  versionId: string;
  groups: Record<string, string>;
  n: number;
  successes: number;
}

/**
 * The feedback behind windowMetrics' per-group counts, each request's groups kept whole
 * (counted per distinct set), so attributes can be intersected: the bias-drift job's input.
 */
export async function outcomesByGroups(
  db: Queryable,
  model: string,
  from: Date,
  to: Date,
): Promise<GroupOutcomes[]> {
  const rows = await db.query<{ vid: string; groups: Record<string, string>; n: number; successes: number }>(
    `${REQUESTS}
     SELECT r.vid, ${GROUPS} AS groups, count(*)::int AS n, count(*) FILTER (WHERE f.success)::int AS successes
       FROM r JOIN f ON f.request_id = r.id
      WHERE f.success IS NOT NULL AND r.vid IS NOT NULL
      GROUP BY 1, 2`,
    [model, from.toISOString(), to.toISOString()],
  );
  return rows.map((r) => ({ versionId: r.vid, groups: r.groups, n: r.n, successes: r.successes }));
}

/** A version's mirrored (shadow) calls over [from, to): errors, latency, cost and agreement. */
export async function mirrorWindow(
  db: Queryable,
  model: string,
  versionId: string,
  from: Date,
  to: Date,
): Promise<WindowMetrics> {
  const rows = await db.query<{
    requests: number;
    errors: number;
    p95: number | null;
    cost: number | null;
    cost_sq: number | null;
    compared: number;
    agreed: number;
  }>(
    `SELECT count(*)::int AS requests, count(*) FILTER (WHERE status >= 500)::int AS errors,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY total_ms)::float8 AS p95,
            sum(cost_usd)::float8 AS cost, sum(cost_usd * cost_usd)::float8 AS cost_sq,
            count(agreement)::int AS compared,
            count(*) FILTER (WHERE agreement)::int AS agreed
       FROM request_log
      WHERE model = $1 AND at >= $2 AND at < $3 AND shadow_of IS NOT NULL AND version_id = $4`,
    [model, from.toISOString(), to.toISOString(), versionId],
  );
  const r = rows[0];
  const w: WindowMetrics = {
    ...emptyWindow(versionId),
    requests: r?.requests ?? 0,
    errors: r?.errors ?? 0,
    latencyP95Ms: r?.p95 ?? null,
    costUsd: r?.cost ?? 0,
    costSumSquares: r?.cost_sq ?? 0,
    agreementCompared: r?.compared ?? 0,
    agreed: r?.agreed ?? 0,
  };
  await addHistograms(
    db,
    new Map([[versionId, w]]),
    `SELECT version_id AS vid, ${BUCKET} AS b, count(*)::int AS n FROM request_log
      WHERE model = $1 AND at >= $2 AND at < $3 AND shadow_of IS NOT NULL AND version_id = $4 GROUP BY 1, 2`,
    [model, from.toISOString(), to.toISOString(), versionId],
  );
  return w;
}
