import type { Queryable } from "../../store/db.ts";
import { FEEDBACK_SKEW_MS } from "./rollup.ts";
import type { ReadOptions } from "./windows.ts";

/*
 * Success and cost by path over a window (route-key.ts says what a path is): whole hours from
 * the hourly path roll-up (path-rollup.ts), the window's ragged ends (under an hour each) from
 * the raw rows by the writers' rules, so the result is what the raw rows give. A window on the
 * hour reads roll-up rows only: one per version, path and hour, whatever the traffic.
 */

/** What one path of one router version did over a window. */
export interface PathCounts {
  path: string;
  requests: number;
  /** A 5xx, or a first attempt not served (the windows' rule). */
  errors: number;
  /** The requests' cost: every tier they called. */
  costUsd: number;
  /** Requests whose latest feedback says success or failure; of those, the successes. */
  judged: number;
  successes: number;
}

/** A path's counts with the rates the views show (the experiments engine's definitions). */
export interface PathStats extends PathCounts {
  /** Its share of the version's requests. */
  share: number;
  successRate: number | null;
  costPerRequestUsd: number | null;
  /** Cost per request over the success rate: feedback may cover only some requests. */
  costPerSuccessUsd: number | null;
}

const HOUR = 3_600_000;
const iso = (t: number) => new Date(t).toISOString();

const HOURS = `
  SELECT version_id AS vid, path, sum(requests)::int AS requests, sum(errors)::int AS errors,
         sum(cost_usd)::float8 AS cost, sum(feedback)::int AS judged, sum(successes)::int AS successes
    FROM request_path_rollup_hour
   WHERE model = $1 AND hour >= $2 AND hour < $3 AND ($4::text[] IS NULL OR version_id = ANY($4::text[]))
   GROUP BY 1, 2`;

/** Raw rows in up to two ranges ($2..$5) with each one's latest feedback ($7: the earliest bound). */
const RAW = `
  WITH r AS (
    SELECT id, at, COALESCE(routed_version_id, '') AS vid, route_key, status,
           fallback_path->0->>'outcome' AS first_outcome, cost_usd
      FROM request_log
     WHERE model = $1 AND shadow_of IS NULL AND route_key IS NOT NULL
       AND ((at >= $2 AND at < $3) OR (at >= $4 AND at < $5))
       AND ($6::text[] IS NULL OR routed_version_id = ANY($6::text[]))
  ),
  f AS (
    SELECT DISTINCT ON (f.request_id) f.request_id, f.success
      FROM feedback f JOIN r ON r.id = f.request_id
     WHERE f.at >= $7 AND f.at >= r.at - interval '${FEEDBACK_SKEW_MS} milliseconds'
     ORDER BY f.request_id, f.at DESC, f.id DESC
  )
  SELECT r.vid, r.route_key AS path, count(*)::int AS requests,
         count(*) FILTER (WHERE r.status >= 500 OR (r.first_outcome IS NOT NULL AND r.first_outcome <> 'served'))::int AS errors,
         sum(r.cost_usd)::float8 AS cost, count(f.success)::int AS judged,
         count(*) FILTER (WHERE f.success)::int AS successes
    FROM r LEFT JOIN f ON f.request_id = r.id
   GROUP BY 1, 2`;

interface Row {
  vid: string;
  path: string;
  requests: number;
  errors: number;
  cost: number | null;
  judged: number;
  successes: number;
}

/**
 * Per version of `model` (those in `versionIds`, or every one with router traffic when null),
 * per path, the counts over [from, to), busiest path first. `raw`: every row read raw (the
 * reference the tests hold the roll-up to).
 */
export async function pathCounts(
  db: Queryable,
  model: string,
  versionIds: readonly string[] | null,
  from: Date,
  to: Date,
  opts: ReadOptions = {},
): Promise<Map<string, PathCounts[]>> {
  const sums = new Map<string, Map<string, PathCounts>>();
  for (const v of versionIds ?? []) sums.set(v, new Map());
  const f = from.getTime();
  const t = to.getTime();
  const add = (rows: Row[]) => {
    for (const r of rows) {
      let byPath = sums.get(r.vid);
      if (!byPath) {
        if (versionIds) continue;
        byPath = new Map();
        sums.set(r.vid, byPath);
      }
      const c = byPath.get(r.path) ?? {
        path: r.path,
        requests: 0,
        errors: 0,
        costUsd: 0,
        judged: 0,
        successes: 0,
      };
      c.requests += Number(r.requests);
      c.errors += Number(r.errors);
      c.costUsd += Number(r.cost ?? 0);
      c.judged += Number(r.judged);
      c.successes += Number(r.successes);
      byPath.set(r.path, c);
    }
  };
  if (t > f && (versionIds === null || versionIds.length)) {
    const h0 = Math.ceil(f / HOUR) * HOUR;
    const h1 = Math.floor(t / HOUR) * HOUR;
    const raw: [number, number][] = [];
    if (opts.raw || h0 >= h1) raw.push([f, t]);
    else {
      add(await db.query<Row>(HOURS, [model, iso(h0), iso(h1), versionIds]));
      if (f < h0) raw.push([f, h0]);
      if (h1 < t) raw.push([h1, t]);
    }
    if (raw.length) {
      const [a, b] = [raw[0]!, raw[1] ?? raw[0]!];
      add(
        await db.query<Row>(RAW, [
          model,
          iso(a[0]),
          iso(a[1]),
          iso(b[0]),
          iso(b[1]),
          versionIds,
          iso(a[0] - FEEDBACK_SKEW_MS),
        ]),
      );
    }
  }
  return new Map(
    [...sums].map(([vid, byPath]) => [
      vid,
      [...byPath.values()]
        .filter((c) => c.requests > 0 || c.judged > 0)
        .sort((x, y) => y.requests - x.requests || x.path.localeCompare(y.path)),
    ]),
  );
}

/** The rates of a version's paths: share of its requests, success rate, cost per request and per success. */
export function pathStats(paths: readonly PathCounts[]): PathStats[] {
  const total = paths.reduce((n, p) => n + p.requests, 0);
  return paths.map((p) => {
    const successRate = p.judged > 0 ? p.successes / p.judged : null;
    const costPerRequestUsd = p.requests > 0 ? p.costUsd / p.requests : null;
    return {
      ...p,
      share: total > 0 ? p.requests / total : 0,
      successRate,
      costPerRequestUsd,
      costPerSuccessUsd: costPerRequestUsd !== null && successRate ? costPerRequestUsd / successRate : null,
    };
  });
}
