import type { Clock } from "../../lib/clock.ts";
import { createLease, processHolder } from "../../lib/lease.ts";
import type { Logger } from "../../lib/logger.ts";
import { periodicJob } from "../../lib/periodic.ts";
import type { Db, Queryable } from "../../store/db.ts";
import type { LogTable } from "./partitions.ts";

/*
 * Retention of the request log: raw rows (request_log, feedback) live for `rawDays` and go
 * a whole UTC day at a time (a partition dropped: no DELETE, so the append-only triggers stay
 * as they are); the per-minute roll-ups live for `aggregateDays`, longer. Partitions for the
 * next `aheadDays` days are made before they are needed. Audit events are another table and
 * are never touched here. One job across replicas (the "request-log-retention" lease row).
 */

export interface RetentionPolicy {
  /** Days of raw request and feedback rows kept (whole UTC days; today always kept). */
  rawDays: number;
  /** Days of per-minute roll-ups kept; at least rawDays. */
  aggregateDays: number;
  /** Days of partitions made ahead. */
  aheadDays: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { rawDays: 30, aggregateDays: 400, aheadDays: 3 };

export interface RetentionReport {
  created: string[];
  dropped: string[];
  rollupRowsDeleted: number;
}

const TABLES: LogTable[] = ["request_log", "feedback"];
const DAY = 86_400_000;
const utcDay = (t: number) => new Date(Math.floor(t / DAY) * DAY).toISOString().slice(0, 10);

/** Checks a policy; the message names the field (for config and env errors). */
export function checkRetention(p: RetentionPolicy): RetentionPolicy {
  for (const k of ["rawDays", "aggregateDays", "aheadDays"] as const)
    if (!Number.isInteger(p[k]) || p[k] < (k === "aheadDays" ? 0 : 1))
      throw new RangeError(
        `retention.${k} must be a whole number of days (${k === "aheadDays" ? 0 : 1} or more)`,
      );
  if (p.aggregateDays < p.rawDays)
    throw new RangeError("retention.aggregateDays must be at least retention.rawDays");
  return p;
}

/**
 * One pass at `now`: partitions made for today and the days ahead, raw days older than
 * `rawDays` dropped (a day goes once all of it is past the cut), roll-ups and split units
 * older than `aggregateDays` deleted.
 */
export async function applyRetention(
  db: Queryable,
  now: Date,
  policy: RetentionPolicy,
): Promise<RetentionReport> {
  checkRetention(policy);
  const t = now.getTime();
  const created: string[] = [];
  for (const table of TABLES)
    for (let d = 0; d <= policy.aheadDays; d++) {
      const day = utcDay(t + d * DAY);
      const [r] = await db.query<{ made: boolean }>(
        "SELECT modelgov_ensure_day_partition($1, $2::date) AS made",
        [table, day],
      );
      if (r?.made) created.push(`${table}_p${day.replaceAll("-", "")}`);
    }
  const rawCut = utcDay(t - policy.rawDays * DAY);
  const dropped: string[] = [];
  for (const table of TABLES)
    for (const r of await db.query<{ name: string }>(
      "SELECT modelgov_drop_day_partitions_before($1, $2::date) AS name",
      [table, rawCut],
    ))
      dropped.push(r.name);
  const aggCut = new Date(t - policy.aggregateDays * DAY).toISOString();
  let rollupRowsDeleted = 0;
  for (const sql of [
    "DELETE FROM request_rollup WHERE minute < $1",
    "DELETE FROM request_group_rollup WHERE minute < $1",
    "DELETE FROM client_rollup WHERE minute < $1",
    "DELETE FROM request_rollup_hour WHERE hour < $1",
    "DELETE FROM request_group_rollup_hour WHERE hour < $1",
    "DELETE FROM request_feature_rollup_hour WHERE hour < $1",
    "DELETE FROM request_path_rollup_hour WHERE hour < $1",
    "DELETE FROM split_units WHERE first_at < $1",
    "DELETE FROM split_unit_counts WHERE last_at < $1",
  ]) {
    const rows = await db.query<{ n: number }>(
      `WITH d AS (${sql} RETURNING 1) SELECT count(*)::int AS n FROM d`,
      [aggCut],
    );
    rollupRowsDeleted += Number(rows[0]?.n ?? 0);
  }
  return { created, dropped, rollupRowsDeleted };
}

/** The retention job: a pass at start and every `intervalMs` (default an hour), on one replica. */
export function createRetentionJob(opts: {
  db: Db;
  clock: Clock;
  logger: Logger;
  policy?: RetentionPolicy;
  intervalMs?: number;
  holder?: string;
}) {
  const policy = checkRetention(opts.policy ?? DEFAULT_RETENTION);
  const intervalMs = opts.intervalMs ?? 3_600_000;
  const lease = createLease({
    db: opts.db,
    name: "request-log-retention",
    holder: opts.holder ?? processHolder(),
    ttlMs: Math.max(3 * intervalMs, 60_000),
  });
  const job = periodicJob({
    intervalMs,
    async once() {
      if (!(await lease.fence())) return null;
      const report = await applyRetention(opts.db, opts.clock.now(), policy);
      if (report.dropped.length || report.rollupRowsDeleted)
        opts.logger.info(report, "request log retention: expired days dropped");
      return report;
    },
    onError: (err) => opts.logger.warn({ err }, "request log retention pass failed; retried next tick"),
    onStop: () => lease.release(),
  });
  return { policy, ...job };
}
