import type { Queryable } from "../../store/db.ts";
import { type FeatureCount, OTHER_BIN } from "./features.ts";

/*
 * The hourly feature roll-up's write side: per model, hour and routed version, served
 * requests per feature bin (request_feature_rollup_hour), added in the transaction that
 * inserts the batch, in one statement.
 *
 * Cardinality. A categorical feature keeps at most `cap` distinct bins per model, hour and
 * version (features.ts: 64 values; 16 attributes for `group` and `metadata`); a value first
 * seen when its feature is full is counted in `__other__`, and so is every later request with
 * it that hour. A per-attribute value (`group:region`) is counted only when its attribute is
 * a bin of its own in `group`; otherwise the request counts once in `group`'s `__other__`.
 * New values of one batch are admitted most frequent first (then in bin order) while there
 * is room; the features backfill (feature-backfill.ts) adds an hour of old rows through this
 * same statement, as one batch.
 *
 * So a value is a bin of its own in an hour exactly when a row for it exists: every request
 * with it that hour is counted there, or none is. The raw reads (feature-windows.ts) rely on
 * that: they place a raw row's value by whether its bin exists. It holds across writers
 * because two batches that add to the same model, hour and version have both upserted the same
 * `request_rollup_hour` row before this statement: the second waits for the first to commit,
 * and its next statement (this one, in READ COMMITTED) sees every bin the first admitted.
 */

export interface FeatureRow {
  model: string;
  hour: string;
  version_id: string;
  feature: string;
  bin: string;
  n: number;
  cap: number | null;
  pf: string | null;
  pb: string | null;
}

/** Adds one served request's feature counts to a batch's deltas. */
export function addFeatureCounts(
  into: Map<string, FeatureRow>,
  model: string,
  hour: string,
  versionId: string,
  counts: readonly FeatureCount[],
): void {
  for (const c of counts) {
    const key = `${model}\u0000${hour}\u0000${versionId}\u0000${c.feature}\u0000${c.bin}`;
    const cur = into.get(key);
    if (cur) cur.n++;
    else
      into.set(key, {
        model,
        hour,
        version_id: versionId,
        feature: c.feature,
        bin: c.bin,
        n: 1,
        cap: c.cap ?? null,
        pf: c.parent?.feature ?? null,
        pb: c.parent?.bin ?? null,
      });
  }
}

// Per-row lookups are LATERAL … LIMIT 1 so that they stay index probes: as EXISTS the planner
// may hash the whole table instead, and a self-join for the parents went quadratic. A
// per-attribute value's parent is found by a window over (family, attribute), which holds the
// attribute's own row and its values' rows.
const UPSERT = `
  WITH d AS (
    SELECT * FROM json_to_recordset($1::json) AS r(model text, hour timestamptz, version_id text,
           feature text, bin text, n int8, cap int, pf text, pb text)
  ), k AS (
    -- known: a bin of its own already (or a feature without a cap, or __other__ itself)
    SELECT d.*, d.cap IS NULL OR d.bin = '${OTHER_BIN}' OR e.hit IS NOT NULL AS known
      FROM d LEFT JOIN LATERAL (
             SELECT true AS hit FROM request_feature_rollup_hour t
              WHERE d.cap IS NOT NULL AND t.model = d.model AND t.hour = d.hour
                AND t.version_id = d.version_id AND t.feature = d.feature AND t.bin = d.bin
              LIMIT 1) e ON true
  ), used AS (
    -- the bins a feature with new values has already
    SELECT f.model, f.hour, f.version_id, f.feature,
           (SELECT count(*) FROM request_feature_rollup_hour t
             WHERE t.model = f.model AND t.hour = f.hour AND t.version_id = f.version_id
               AND t.feature = f.feature AND t.bin <> '${OTHER_BIN}') AS used
      FROM (SELECT DISTINCT model, hour, version_id, feature FROM k WHERE NOT known) f
  ), adm AS (
    SELECT k.model, k.hour, k.version_id, k.feature, k.bin, k.n, k.pf, k.pb,
           k.known OR (row_number() OVER (PARTITION BY k.model, k.hour, k.version_id, k.feature, k.known
                                           ORDER BY k.n DESC, k.bin) + u.used <= k.cap) AS admitted
      FROM k LEFT JOIN used u
        ON u.model = k.model AND u.hour = k.hour AND u.version_id = k.version_id AND u.feature = k.feature
  ), par AS (
    SELECT a.*, bool_or(a.admitted) FILTER (WHERE a.pf IS NULL)
                  OVER (PARTITION BY a.model, a.hour, a.version_id, COALESCE(a.pf, a.feature),
                                     COALESCE(a.pb, a.bin)) AS parent_admitted
      FROM adm a
  )
  INSERT INTO request_feature_rollup_hour AS t (model, hour, version_id, feature, bin, n)
  SELECT model, hour, version_id, feature, CASE WHEN admitted THEN bin ELSE '${OTHER_BIN}' END, sum(n)
    FROM par
   WHERE pf IS NULL OR parent_admitted
   GROUP BY 1, 2, 3, 4, 5
   ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (model, hour, version_id, feature, bin) DO UPDATE SET n = t.n + EXCLUDED.n`;

/** Writes a batch's feature counts: one statement, rows in key order. */
export async function applyFeatureDeltas(q: Queryable, rows: Map<string, FeatureRow>): Promise<void> {
  await q.query(UPSERT, [JSON.stringify([...rows.values()])]);
}
