import type { Queryable } from "../../store/db.ts";
import { OTHER_BIN } from "./features.ts";
import type { ReadOptions } from "./windows.ts";

/*
 * Feature distributions over a window: what monitors compare with a baseline (PSI,
 * chi-square, ...). Whole hours come from the hourly feature roll-up, the window's ragged ends
 * (under an hour each) from the raw rows' `features`, by the rules the writers follow, so the
 * result is what the raw rows give. A window aligned on hours reads roll-up rows only, a few
 * hundred per version and hour whatever the traffic; a ragged end reads its raw rows (an hour
 * of them at most on each side).
 */

/** Per feature, then per bin, the served requests counted there. */
export type FeatureHistograms = Record<string, Record<string, number>>;

const HOUR = 3_600_000;
const iso = (t: number) => new Date(t).toISOString();

/**
 * The raw rows' bins over up to two ranges ($2..$5): each row's values by
 * modelgov_feature_values, grouped first (one lookup per distinct value and hour, not per row);
 * a value is its own bin when the hour's roll-up has a row for it (the writers admit a value
 * for a whole hour or not at all: feature-rollup.ts), else `__other__`; a per-attribute value
 * counts only when its attribute is a bin of its own. The lookups are LATERAL … LIMIT 1, so
 * they stay index probes (feature-rollup.ts says why).
 */
const RAW = `
  WITH v AS (
    SELECT COALESCE(r.routed_version_id, '') AS vid, date_trunc('hour', r.at, 'UTC') AS hour,
           x.feature, x.bin, x.cap, x.pf, x.pb, count(*)::int8 AS n
      FROM request_log r
     CROSS JOIN LATERAL modelgov_feature_values(r.tokens_in, r.tokens_out, r.features, r.groups) AS x
     WHERE r.model = $1 AND r.shadow_of IS NULL AND ((r.at >= $2 AND r.at < $3) OR (r.at >= $4 AND r.at < $5))
       AND r.routed_version_id = ANY($6::text[])
     GROUP BY 1, 2, 3, 4, 5, 6, 7
  )
  SELECT v.vid, v.feature,
         CASE WHEN v.cap IS NULL OR v.bin = '${OTHER_BIN}' OR own.hit THEN v.bin ELSE '${OTHER_BIN}' END AS bin,
         sum(v.n)::int8 AS n
    FROM v
    LEFT JOIN LATERAL (
           SELECT true AS hit FROM request_feature_rollup_hour t
            WHERE v.cap IS NOT NULL AND t.model = $1 AND t.hour = v.hour AND t.version_id = v.vid
              AND t.feature = v.feature AND t.bin = v.bin
            LIMIT 1) own ON true
    LEFT JOIN LATERAL (
           SELECT true AS hit FROM request_feature_rollup_hour t
            WHERE v.pf IS NOT NULL AND t.model = $1 AND t.hour = v.hour AND t.version_id = v.vid
              AND t.feature = v.pf AND t.bin = v.pb
            LIMIT 1) parent ON true
   WHERE v.pf IS NULL OR parent.hit
   GROUP BY 1, 2, 3`;

const HOURS = `
  SELECT version_id AS vid, feature, bin, sum(n)::int8 AS n
    FROM request_feature_rollup_hour
   WHERE model = $1 AND hour >= $2 AND hour < $3 AND version_id = ANY($4::text[])
   GROUP BY 1, 2, 3`;

/**
 * Per version of `model` (each one in `versionIds`, empty when it had no traffic), per
 * feature, the served requests per bin over [from, to). Features: `tokens_in`, `tokens_out`,
 * `messages`, `tool_calls` (bins named by their lower bound: NUMERIC_BIN_BOUNDS), `script`,
 * `tools_offered`, `refusal`, `valid` (`true` / `false`), `finish_reason`, `label`, `group`
 * and `metadata` (attribute names), `group:<attribute>` and `metadata:<key>` (values). A
 * feature a request lacks is not counted, so each feature has its own total.
 * `raw`: every row read raw (the reference the tests hold the roll-ups to).
 */
export async function featureHistograms(
  db: Queryable,
  model: string,
  versionIds: readonly string[],
  from: Date,
  to: Date,
  opts: ReadOptions = {},
): Promise<Map<string, FeatureHistograms>> {
  const out = new Map<string, FeatureHistograms>(versionIds.map((id) => [id, {}]));
  const f = from.getTime();
  const t = to.getTime();
  if (!versionIds.length || t <= f) return out;
  const add = (rows: { vid: string; feature: string; bin: string; n: number | string }[]) => {
    for (const r of rows) {
      const h = out.get(r.vid);
      if (!h) continue;
      const bins = h[r.feature] ?? {};
      h[r.feature] = bins;
      bins[r.bin] = (bins[r.bin] ?? 0) + Number(r.n);
    }
  };
  const h0 = Math.ceil(f / HOUR) * HOUR;
  const h1 = Math.floor(t / HOUR) * HOUR;
  const raw: [number, number][] = [];
  if (opts.raw || h0 >= h1) raw.push([f, t]);
  else {
    add(await db.query(HOURS, [model, iso(h0), iso(h1), versionIds]));
    if (f < h0) raw.push([f, h0]);
    if (h1 < t) raw.push([h1, t]);
  }
  if (raw.length) {
    const [a, b] = [raw[0]!, raw[1] ?? raw[0]!];
    add(await db.query(RAW, [model, iso(a[0]), iso(a[1]), iso(b[0]), iso(b[1]), versionIds]));
  }
  return out;
}
