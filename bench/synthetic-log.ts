import { readFileSync } from "node:fs";
import { backfillHour } from "../src/modules/request-log/index.ts";
import type { Db, Queryable } from "../src/store/db.ts";

/*
 * Synthetic gateway traffic written straight into the store with SQL (the writer would take
 * minutes per million rows), then summed into the roll-ups by the roll-up migration's own
 * backfill statements and the feature backfill job's hour statement, the same rules the
 * writers follow (tested in rollup-migration.test.ts and feature-backfill.test.ts).
 *
 * `rows` requests spread evenly over `days` days ending at `end`; 40% go to the "hot" model
 * (versions ver_hot_a 90% and ver_hot_b 10%, the rest of its traffic an experiment scoped
 * "exp_bench" over the last 7 days), the rest to 20 other models; 30% of requests get feedback
 * a few minutes later. 2% are errors, latencies log-normal-ish, 1,000 distinct subjects; 1 in
 * 200 of the hot model's rows is a mirrored (shadow) call of the row before it. Every row has
 * features as the gateway derives them (features.ts): mostly Latin one-to-twelve-message
 * requests, a quarter offered tools, a fifth asking for JSON (2% of those invalid), 1% refusals,
 * a seventh classifier-like answers with a label; the errors have no output features.
 */

export const HOT = "hot";
export const HOT_VERSIONS = ["ver_hot_a", "ver_hot_b"];
export const SCOPE = "exp_bench";
const DAY = 86_400_000;

export interface SyntheticOptions {
  rows: number;
  days?: number;
  end: Date;
  chunk?: number;
  /** Id prefix, so several fills can share a store. */
  tag?: string;
  /**
   * Rows as logged before the features migration: no `features` column written (run it on a
   * store migrated up to just before 20261209000000_request_features.sql).
   */
  legacy?: boolean;
  /**
   * UTC hours of the day (0-23) that get rows, spread evenly over them; the other hours stay
   * empty (default: every hour). A job that walks the log an hour at a time then has fewer hours.
   */
  activeHours?: readonly number[];
  onProgress?: (done: number) => void;
}

/** The SQL for row `i`'s time: evenly over the whole span, or over the active hours of each day. */
function atSql(o: SyntheticOptions, days: number, start: string, step: string): string {
  const hours = o.activeHours;
  if (!hours) return `${start}::timestamptz + (i * ${step}::float8) * interval '1 millisecond'`;
  if (hours.length === 0 || hours.some((h) => !Number.isInteger(h) || h < 0 || h > 23))
    throw new Error("activeHours: integers from 0 to 23");
  const k = hours.length;
  const slots = days * k;
  const slot = `((i * ${slots}) / ${o.rows})`;
  // The step stays in the statement (times zero): PostgreSQL refuses a parameter it cannot type.
  return `${start}::timestamptz + (${slot} / ${k}) * interval '1 day' + (${step}::float8 * 0) * interval '1 millisecond'
          + (ARRAY[${hours.join(",")}]::int[])[(${slot} % ${k}) + 1] * interval '1 hour'
          + (((i * ${slots}) % ${o.rows})::float8 / ${o.rows}) * interval '1 hour'`;
}

export async function ensureDays(db: Queryable, from: Date, days: number) {
  for (let d = 0; d <= days; d++) {
    const day = new Date(from.getTime() + d * DAY).toISOString().slice(0, 10);
    for (const t of ["request_log", "feedback"])
      await db.query("SELECT modelgov_ensure_day_partition($1, $2::date)", [t, day]);
  }
}

/** The features each synthetic row has, as the gateway derives them (features.ts). */
const FEATURES_SQL = `
  jsonb_build_object(
    'messages', 1 + (i % 6) * (1 + i % 2),
    'script', CASE WHEN i % 20 = 0 THEN 'cyrillic' WHEN i % 33 = 0 THEN 'cjk' WHEN i % 97 = 0 THEN 'none'
                   ELSE 'latin' END,
    'toolsOffered', CASE WHEN i % 4 = 1 THEN 2 ELSE 0 END,
    'toolCalls', CASE WHEN i % 50 = 0 THEN NULL WHEN i % 12 = 1 THEN 1 ELSE 0 END,
    'refusal', CASE WHEN i % 50 = 0 THEN NULL ELSE i % 101 = 3 END,
    'valid', CASE WHEN i % 50 <> 0 AND i % 5 = 2 AND i % 12 <> 1 AND i % 101 <> 3 THEN i % 250 <> 2 END,
    'label', CASE WHEN i % 50 <> 0 AND i % 7 = 3 AND i % 101 <> 3
                  THEN (ARRAY['positive', 'negative', 'neutral'])[1 + (i / 7) % 3] END,
    'finishReason', CASE WHEN i % 50 = 0 THEN NULL WHEN i % 12 = 1 THEN 'tool_calls'
                         WHEN i % 101 = 3 THEN 'content_filter' WHEN i % 61 = 0 THEN 'length'
                         ELSE 'stop' END)`;

export async function fillSynthetic(db: Queryable, o: SyntheticOptions): Promise<void> {
  const days = o.days ?? 30;
  const chunk = o.chunk ?? 500_000;
  const start = new Date(o.end.getTime() - days * DAY);
  const tag = o.tag ?? "s";
  await ensureDays(db, start, days);
  const stepMs = (days * DAY) / o.rows;
  const scopeFrom = new Date(o.end.getTime() - 7 * DAY).toISOString();
  for (let lo = 0; lo < o.rows; lo += chunk) {
    const hi = Math.min(o.rows, lo + chunk) - 1;
    await db.query(
      `INSERT INTO request_log (id, at, token_id, client, model, version_id, version, routed_version_id, route_reason,
                                split_scope, endpoint, stream, status, error_class, total_ms, upstream_ms, tokens_in,
                                tokens_out, cost_usd, fallback_path, subject_hash, groups, prompt_hash, response_hash,
                                shadow_of, agreement${o.legacy ? "" : ", features"})
       SELECT '${tag}_' || i, at, 'tok_' || (i % 4), 'client-' || (i % 4), model, vid, ver, vid, route,
              CASE WHEN model = '${HOT}' AND at >= $4 THEN '${SCOPE}' END,
              'chat.completions', false, CASE WHEN i % 50 = 0 THEN 502 ELSE 200 END,
              CASE WHEN i % 50 = 0 THEN 'upstream_5xx' END, ms, ms * 0.9, 200 + (i * 31) % 997,
              CASE WHEN i % 50 = 0 THEN 0 ELSE 20 + (i * 7) % 300 END, 0.00123,
              jsonb_build_array(jsonb_build_object('versionId', vid, 'version', ver,
                 'outcome', CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'served' END, 'attempts', 1)),
              'sha256:' || md5('u' || (i % 1000)), jsonb_build_object('region', CASE WHEN i % 2 = 0 THEN 'eu' ELSE 'us' END),
              'sha256:' || md5('p' || i), 'sha256:' || md5('r' || i),
              CASE WHEN i % 200 = 7 AND model = '${HOT}' THEN '${tag}_' || (i - 1) END,
              CASE WHEN i % 200 = 7 AND model = '${HOT}' THEN i % 400 = 7 END
              ${o.legacy ? "" : `, ${FEATURES_SQL}`}
         FROM (           SELECT i, ${atSql(o, days, "$1", "$3")} AS at,
                  CASE WHEN i % 10 < 4 THEN '${HOT}' ELSE 'model-' || (i % 20) END AS model,
                  CASE WHEN i % 10 < 4 THEN CASE WHEN i % 100 < 4 THEN 'ver_hot_b' ELSE 'ver_hot_a' END
                       ELSE 'ver_' || (i % 20) END AS vid,
                  CASE WHEN i % 100 < 4 THEN '1.1.0' ELSE '1.0.0' END AS ver,
                  CASE WHEN i % 10 < 4 THEN 'split:90/10 bucket=' || (i % 10000) ELSE 'alias:production' END AS route,
                  (40 + exp((i % 997) / 997.0 * 4) * 10)::real AS ms
             FROM generate_series($2::bigint, $5::bigint) AS i
         ) g`,
      [start.toISOString(), lo, stepMs, scopeFrom, hi],
    );
    await db.query(
      `INSERT INTO feedback (id, request_id, at, success, score, groups, token_id, client)
       SELECT 'fbk_${tag}_' || i, '${tag}_' || i,
              ${atSql(o, days, "$1", "$3")} + (60000 + (i % 600) * 1000) * interval '1 millisecond',
              (i * 7919) % 100 < 80, NULL, '{}'::jsonb, 'tok_' || (i % 4), 'client-' || (i % 4)
         FROM generate_series($2::bigint, $4::bigint) AS i
        WHERE i % 10 IN (0, 3, 7)`,
      [start.toISOString(), lo, stepMs, hi],
    );
    o.onProgress?.(hi + 1);
  }
}

/** A migration's section between two comment lines, as statements. */
function section(file: string, fromMark: string, toMark: string): string[] {
  const sql = readFileSync(new URL(`../src/store/migrations/${file}`, import.meta.url), "utf8");
  const from = sql.indexOf(fromMark);
  const to = sql.indexOf(toMark, from);
  if (from < 0 || to < 0) throw new Error(`${file}: the backfill section moved`);
  return sql
    .slice(from, to)
    .split(/;\s*\n/)
    .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
    .filter(Boolean);
}

/** The roll-up migration's backfill statements: the roll-ups of every row in the log. */
export function backfillSql(): string[] {
  return section(
    "20261208000000_request_log_rollups.sql",
    "-- The roll-ups of the rows already logged",
    "-- Running experiments",
  );
}

/**
 * Empties and rebuilds the roll-ups (and the bench experiment's unit counts) from the raw rows:
 * the roll-up migration's backfill, then the feature sums and bins of every row, an hour at a
 * time, by the feature backfill job's own statement (feature-backfill.ts, with `all`).
 * `features: false` leaves the latter out (a write benchmark needs the history's rows, not its
 * feature sums).
 */
export async function rebuildRollups(db: Db, opts: { features?: boolean } = {}): Promise<void> {
  for (const t of [
    "request_rollup",
    "request_group_rollup",
    "request_rollup_hour",
    "request_group_rollup_hour",
    "request_feature_rollup_hour",
    "client_rollup",
    "split_units",
    "split_unit_counts",
  ])
    await db.query(`DELETE FROM ${t}`);
  for (const s of backfillSql()) await db.query(s);
  if (opts.features !== false) {
    const hours = await db.query<{ hour: Date | string }>(
      "SELECT DISTINCT hour FROM request_rollup_hour ORDER BY hour",
    );
    for (const h of hours) await db.transaction((tx) => backfillHour(tx, new Date(h.hour), { all: true }));
  }
  await db.query(
    `INSERT INTO split_units (scope, version_id, subject, first_at)
     SELECT split_scope, routed_version_id, subject_hash, min(at) FROM request_log
      WHERE split_scope IS NOT NULL AND subject_hash IS NOT NULL GROUP BY 1, 2, 3`,
  );
  await db.query(
    `INSERT INTO split_unit_counts (scope, version_id, units, last_at)
     SELECT scope, version_id, count(*), max(first_at) FROM split_units GROUP BY 1, 2`,
  );
}
