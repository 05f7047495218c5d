import type { Queryable } from "../../store/db.ts";

/*
 * Who sent what through the gateway: the request log's reads for experiments (assignment
 * units), shadow mode (mirrored calls next to the ones served), dependents (the blast
 * radius) and bias drift (which models had traffic). Their SQL is the request log's to
 * change, as are its indexes.
 */

/**
 * Distinct assignment units per version over [from, to), attributed like windowMetrics (the
 * version the route chose; mirrored shadow requests left out). A request without a subject
 * was split on its own request id, so it is a unit of its own.
 */
export async function unitsPerVersion(
  q: Queryable,
  model: string,
  from: Date,
  to: Date,
): Promise<Map<string, number>> {
  const rows = await q.query<{ vid: string; units: number }>(
    `SELECT COALESCE(fallback_path->0->>'versionId', version_id) AS vid,
            (count(DISTINCT subject_hash) + count(*) FILTER (WHERE subject_hash IS NULL))::int AS units
       FROM request_log
      WHERE model = $1 AND at >= $2 AND at < $3 AND shadow_of IS NULL
      GROUP BY 1`,
    [model, from.toISOString(), to.toISOString()],
  );
  return new Map(rows.map((r) => [r.vid, Number(r.units)]));
}

/** One shadow version's mirrored calls since a time, beside the served calls they copied. */
export interface ShadowPairs {
  version: string;
  mirrored: number;
  errors: number;
  compared: number;
  agreed: number;
  shadow_p95: number | null;
  served_p95: number | null;
  shadow_cost: number | null;
  served_cost: number | null;
}

/** Per shadow version of `model`, from `since` on: each mirrored call joined to the call it copied. */
export async function shadowPairs(q: Queryable, model: string, since: Date): Promise<ShadowPairs[]> {
  return q.query<ShadowPairs>(
    `SELECT s.version, count(*)::int AS mirrored,
                count(*) FILTER (WHERE s.status >= 500)::int AS errors,
                count(s.agreement)::int AS compared,
                count(*) FILTER (WHERE s.agreement)::int AS agreed,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY s.total_ms)::float8 AS shadow_p95,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY p.total_ms)::float8 AS served_p95,
                sum(s.cost_usd)::float8 AS shadow_cost, sum(p.cost_usd)::float8 AS served_cost
           FROM request_log s LEFT JOIN request_log p ON p.id = s.shadow_of
          WHERE s.model = $1 AND s.at >= $2 AND s.shadow_of IS NOT NULL
          GROUP BY s.version ORDER BY s.version`,
    [model, since.toISOString()],
  );
}

/** One client's calls to a model through one version (4xx and 5xx count as errors). */
export interface ClientTraffic {
  client: string;
  version_id: string | null;
  version: string | null;
  requests: number;
  errors: number;
  last_seen: Date;
}

/**
 * Who called `model` from `since` on, per client and version, busiest first; shadow calls
 * (mirrored, never returned to the client) left out. Only a lower bound: a replica whose
 * clock runs ahead must not hide its newest rows.
 */
export async function clientTraffic(q: Queryable, model: string, since: Date): Promise<ClientTraffic[]> {
  return q.query<ClientTraffic>(
    `SELECT client, version_id, version, count(*)::int AS requests,
                count(*) FILTER (WHERE status >= 400)::int AS errors, max(at) AS last_seen
           FROM request_log
          WHERE model = $1 AND at >= $2 AND shadow_of IS NULL
          GROUP BY client, version_id, version
          ORDER BY requests DESC, client, version NULLS LAST`,
    [model, since.toISOString()],
  );
}

/**
 * The models with live (not mirrored) traffic in [from, to); one index probe per model. It
 * walks the registry's `models` (id and name only) so each probe is an index lookup: the
 * one read here that names another module's table, kept as one statement for its plan.
 */
export async function modelsWithTraffic(q: Queryable, from: Date, to: Date) {
  return q.query<{ id: string; name: string }>(
    `SELECT m.id, m.name FROM models m
      WHERE EXISTS (SELECT 1 FROM request_log r
                     WHERE r.model = m.name AND r.at >= $1 AND r.at < $2 AND r.shadow_of IS NULL)
      ORDER BY m.name`,
    [from.toISOString(), to.toISOString()],
  );
}
