import type { Queryable } from "../../store/db.ts";

/*
 * Who sent what through the gateway: the request log's reads for experiments (assignment
 * units), shadow mode (mirrored calls next to the ones served), dependents (the blast
 * radius) and bias drift (which models had traffic). Their SQL is the request log's to
 * change, as are its indexes.
 */

/**
 * Distinct assignment units per version of a scoped split (an experiment's id), exact: the
 * writer counts each (scope, version, subject) once as its rows land, so this reads one row
 * per arm. A request without a subject was split on its own request id: a unit of its own.
 */
export async function unitsPerVersion(q: Queryable, scope: string): Promise<Map<string, number>> {
  const rows = await q.query<{ vid: string; units: string | number }>(
    "SELECT version_id AS vid, units FROM split_unit_counts WHERE scope = $1",
    [scope],
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
           FROM request_log s
           LEFT JOIN request_log p ON p.id = s.shadow_of AND p.at >= $2::timestamptz - interval '1 hour'
                                  AND p.at <= s.at + interval '1 hour'
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
 * clock runs ahead must not hide its newest rows. Whole minutes come from the client
 * roll-up, the part of a minute after `since` from the raw rows.
 */
export async function clientTraffic(q: Queryable, model: string, since: Date): Promise<ClientTraffic[]> {
  const m0 = Math.ceil(since.getTime() / 60_000) * 60_000;
  const rows = await q.query<{
    client: string;
    version_id: string;
    version: string;
    requests: number;
    errors: number;
    last_seen: Date;
  }>(
    `SELECT client, version_id, version, sum(requests)::int AS requests, sum(errors)::int AS errors,
            max(last_seen) AS last_seen
       FROM (SELECT client, version_id, version, requests, errors, last_seen
               FROM client_rollup WHERE model = $1 AND minute >= $3
             UNION ALL
             SELECT COALESCE(client, ''), COALESCE(version_id, ''), COALESCE(version, ''), count(*)::int,
                    count(*) FILTER (WHERE status >= 400)::int, max(at)
               FROM request_log WHERE model = $1 AND at >= $2 AND at < $3 AND shadow_of IS NULL
              GROUP BY 1, 2, 3) t
      GROUP BY client, version_id, version`,
    [model, since.toISOString(), new Date(Math.max(m0, since.getTime())).toISOString()],
  );
  const nullable = (s: string) => (s === "" ? null : s);
  return rows
    .map((r) => ({
      client: r.client,
      version_id: nullable(r.version_id),
      version: nullable(r.version),
      requests: Number(r.requests),
      errors: Number(r.errors),
      last_seen: new Date(r.last_seen),
    }))
    .sort(
      (a, b) =>
        b.requests - a.requests ||
        a.client.localeCompare(b.client) ||
        (a.version === null ? 1 : 0) - (b.version === null ? 1 : 0) ||
        (a.version ?? "").localeCompare(b.version ?? ""),
    );
}

/**
 * The models with live (not mirrored) traffic in the minutes that [from, to) touches, from
 * the roll-ups: one index probe per model. It walks the registry's `models` (id and name
 * only): the one read here that names another module's table, kept as one statement for its
 * plan.
 */
export async function modelsWithTraffic(q: Queryable, from: Date, to: Date) {
  return q.query<{ id: string; name: string }>(
    `SELECT m.id, m.name FROM models m
      WHERE EXISTS (SELECT 1 FROM request_rollup r
                     WHERE r.model = m.name AND r.minute >= date_trunc('minute', $1::timestamptz)
                       AND r.minute < $2 AND NOT r.shadow AND r.requests > 0)
      ORDER BY m.name`,
    [from.toISOString(), to.toISOString()],
  );
}
