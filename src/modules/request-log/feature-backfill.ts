import { Gauge, type Registry } from "prom-client";
import { createLease, processHolder } from "../../lib/lease.ts";
import type { Logger } from "../../lib/logger.ts";
import { periodicJob } from "../../lib/periodic.ts";
import type { Db, Queryable, Tx } from "../../store/db.ts";
import type { FeatureRow } from "./feature-rollup.ts";
import { applyDeltas, minuteOf, RollupDeltas } from "./rollup.ts";

/*
 * The features migration's backfill (20261209000000_request_features.sql says which rows and
 * why): the rows logged before it have `features IS NULL`, and their tokens (both roll-ups)
 * and their tokens and groups (the feature roll-up) are added here, by a leased background
 * job, one hour per transaction, newest hour first, so that monitors' recent windows fill
 * first. An hour's transaction locks the cursor row, reads the hour's NULL rows, adds their
 * sums through the writers' own upserts (same rules, same lock order, the hour rows first, so
 * the feature caps hold against live batches of that hour), then moves the cursor past the
 * hour: a crash rolls the hour back whole, and no hour is added twice, whichever replica or
 * restart runs it. The live writers never store NULL features, so they and the job never
 * count the same row.
 */

const HOUR = 3_600_000;

/** The oldest day partition's start: hours before it have no raw rows left to sum. */
const OLDEST_DAY = `SELECT min(to_date(right(p, 8), 'YYYYMMDD'))::timestamp AT TIME ZONE 'UTC' AS day
                      FROM modelgov_day_partitions('request_log') AS p`;

/**
 * Adds the sums of one hour's rows that no writer counted (`features IS NULL`; every row with
 * `all`, for a roll-up rebuilt from scratch) to the roll-ups. Returns the rows summed. Run it
 * in a transaction; the rows are found by (model, at) through the models the hour's roll-up
 * holds (every logged row is in it), so the read is an index range per model, not a scan of
 * the day.
 */
export async function backfillHour(q: Queryable, hour: Date, opts: { all?: boolean } = {}): Promise<number> {
  const from = new Date(Math.floor(hour.getTime() / HOUR) * HOUR);
  const models = (
    await q.query<{ model: string }>("SELECT DISTINCT model FROM request_rollup_hour WHERE hour = $1", [
      from.toISOString(),
    ])
  ).map((r) => r.model);
  if (!models.length) return 0;
  const where = `r.model = ANY($1::text[]) AND r.at >= $2 AND r.at < $3${opts.all ? "" : " AND r.features IS NULL"}`;
  const args = [models, from.toISOString(), new Date(from.getTime() + HOUR).toISOString()];
  const sums = await q.query<{
    model: string;
    minute: Date | string;
    shadow: boolean;
    vid: string;
    n: string | number;
    tokens_in: string | number;
    tokens_out: string | number;
    refusals: string | number;
    checked: string | number;
    valid: string | number;
  }>(
    `SELECT r.model, date_trunc('minute', r.at) AS minute, r.shadow_of IS NOT NULL AS shadow,
            CASE WHEN r.shadow_of IS NULL THEN COALESCE(r.routed_version_id, '')
                 ELSE COALESCE(r.version_id, '') END AS vid,
            count(*) AS n, COALESCE(sum(r.tokens_in), 0) AS tokens_in, COALESCE(sum(r.tokens_out), 0) AS tokens_out,
            count(*) FILTER (WHERE r.features->'refusal' = 'true'::jsonb) AS refusals,
            count(*) FILTER (WHERE jsonb_typeof(r.features->'valid') = 'boolean') AS checked,
            count(*) FILTER (WHERE r.features->'valid' = 'true'::jsonb) AS valid
       FROM request_log r WHERE ${where}
      GROUP BY 1, 2, 3, 4`,
    args,
  );
  if (!sums.length) return 0;
  const d = new RollupDeltas();
  let rows = 0;
  for (const s of sums) {
    rows += Number(s.n);
    d.addFeatureSums(s.model, minuteOf(s.minute), s.vid, s.shadow, {
      tokensIn: Number(s.tokens_in),
      tokensOut: Number(s.tokens_out),
      refusals: Number(s.refusals),
      checked: Number(s.checked),
      valid: Number(s.valid),
    });
  }
  const bins = await q.query<Omit<FeatureRow, "hour" | "n"> & { n: string | number }>(
    `SELECT r.model, COALESCE(r.routed_version_id, '') AS version_id, x.feature, x.bin, x.cap, x.pf, x.pb,
            count(*) AS n
       FROM request_log r
      CROSS JOIN LATERAL modelgov_feature_values(r.tokens_in, r.tokens_out, r.features, r.groups) AS x
      WHERE ${where} AND r.shadow_of IS NULL
      GROUP BY 1, 2, 3, 4, 5, 6, 7`,
    args,
  );
  const hourIso = from.toISOString();
  for (const b of bins)
    d.features.set(`${b.model}\u0000${b.version_id}\u0000${b.feature}\u0000${b.bin}`, {
      ...b,
      hour: hourIso,
      n: Number(b.n),
    });
  // Every (model, minute, version) row is written, even one that adds 0 tokens: it takes the
  // hour row's lock before the feature bins are admitted, as a writer's batch does.
  await applyDeltas(q, d, { keepEmpty: true });
  return rows;
}

export interface BackfillStatus {
  /** The hours recorded by the migration: [lo, hi). */
  lo: Date;
  hi: Date;
  /** Hours in [next, hi) are done. */
  next: Date;
  /** The hours still to do: [from, to), from the oldest day still kept; null once done. */
  pending: { from: Date; to: Date } | null;
  /** At most this many hours left (hours without rows are skipped in one step). */
  hoursLeft: number;
  hoursDone: number;
  rowsDone: number;
  finishedAt: Date | null;
}

/** Where the backfill stands (one row and the catalog: cheap enough for every scrape and pass). */
export async function featureBackfillStatus(q: Queryable): Promise<BackfillStatus | null> {
  const [b] = await q.query<{
    lo: Date | string;
    hi: Date | string;
    next_hour: Date | string;
    hours_done: number;
    rows_done: string | number;
    finished_at: Date | string | null;
    oldest: Date | string | null;
  }>(
    `SELECT b.lo, b.hi, b.next_hour, b.hours_done, b.rows_done, b.finished_at, (${OLDEST_DAY}) AS oldest
       FROM request_feature_backfill b`,
  );
  if (!b) return null;
  const next = new Date(b.next_hour);
  const floor = Math.max(
    new Date(b.lo).getTime(),
    b.oldest === null ? next.getTime() : new Date(b.oldest).getTime(),
  );
  const pending =
    b.finished_at === null && floor < next.getTime() ? { from: new Date(floor), to: next } : null;
  return {
    lo: new Date(b.lo),
    hi: new Date(b.hi),
    next,
    pending,
    hoursLeft: pending ? Math.ceil((pending.to.getTime() - pending.from.getTime()) / HOUR) : 0,
    hoursDone: Number(b.hours_done),
    rowsDone: Number(b.rows_done),
    finishedAt: b.finished_at === null ? null : new Date(b.finished_at),
  };
}

/** The hours whose old rows are not summed yet, or null: a window overlapping them reads short. */
export async function featureBackfillPending(q: Queryable): Promise<{ from: Date; to: Date } | null> {
  return (await featureBackfillStatus(q))?.pending ?? null;
}

export type BackfillChunk =
  | { state: "hour"; hour: Date; rows: number }
  | { state: "done" }
  | { state: "fenced" };

/**
 * One chunk, in one transaction: the newest hour still to do (skipping hours without roll-up
 * rows, and days retention dropped), summed, and the cursor moved past it. `fence` is the
 * job's lease (the work rolls back if it was lost); the cursor row's lock alone already keeps
 * two runners from adding one hour twice.
 */
export async function runBackfillChunk(
  db: Db,
  opts: { fence?: (tx: Tx) => Promise<boolean> } = {},
): Promise<BackfillChunk> {
  return db.transaction(async (tx): Promise<BackfillChunk> => {
    if (opts.fence && !(await opts.fence(tx))) return { state: "fenced" };
    const [b] = await tx.query<{ lo: Date | string; next_hour: Date | string; finished_at: unknown }>(
      "SELECT lo, next_hour, finished_at FROM request_feature_backfill FOR UPDATE",
    );
    if (!b || b.finished_at !== null) return { state: "done" };
    const [o] = await tx.query<{ day: Date | string | null }>(OLDEST_DAY);
    const next = new Date(b.next_hour).toISOString();
    const floor = new Date(
      Math.max(new Date(b.lo).getTime(), o?.day == null ? Date.parse(next) : new Date(o.day).getTime()),
    ).toISOString();
    const [h] = await tx.query<{ hour: Date | string | null }>(
      "SELECT max(hour) AS hour FROM request_rollup_hour WHERE hour >= $1 AND hour < $2",
      [floor, next],
    );
    if (h?.hour == null) {
      await tx.query(
        "UPDATE request_feature_backfill SET next_hour = LEAST(next_hour, $1::timestamptz), finished_at = now()",
        [floor],
      );
      return { state: "done" };
    }
    const hour = new Date(h.hour);
    const rows = await backfillHour(tx, hour);
    await tx.query(
      `UPDATE request_feature_backfill
          SET next_hour = $1, hours_done = hours_done + 1, rows_done = rows_done + $2`,
      [hour.toISOString(), rows],
    );
    return { state: "hour", hour, rows };
  });
}

export interface BackfillPass {
  held: boolean;
  hours: number;
  rows: number;
  done: boolean;
}

/**
 * The backfill job: one across replicas (the "request-feature-backfill" lease row). A pass runs
 * chunks back to back for up to `budgetMs`, every `intervalMs`; once the backfill is done the
 * job does nothing more (and releases its lease). Progress is logged every `logEveryMs`.
 */
export function createFeatureBackfillJob(opts: {
  db: Db;
  logger: Logger;
  intervalMs?: number;
  budgetMs?: number;
  leaseTtlMs?: number;
  holder?: string;
  logEveryMs?: number;
}) {
  const { db, logger } = opts;
  const intervalMs = opts.intervalMs ?? 500;
  const budgetMs = opts.budgetMs ?? 2_000;
  const logEveryMs = opts.logEveryMs ?? 60_000;
  const holder = opts.holder ?? processHolder();
  const lease = createLease({
    db,
    name: "request-feature-backfill",
    holder,
    // Long enough for one hour's chunk at high traffic (an hour of 3.6M rows at the ~12k rows/s
    // measured is 5 minutes): the fence refuses a chunk that commits after the lease expired.
    // A crashed holder delays the backfill by this much at most.
    ttlMs: opts.leaseTtlMs ?? 15 * 60_000,
    logger,
  });
  let finished = false;
  let lastLog = 0;
  let since = { at: Date.now(), rows: 0 };

  async function once(): Promise<BackfillPass> {
    const none = { hours: 0, rows: 0 };
    if (finished) return { held: false, ...none, done: true };
    const fence = await lease.fence();
    if (!fence) return { held: false, ...none, done: false };
    const t0 = performance.now();
    let hours = 0;
    let rows = 0;
    let done = false;
    do {
      const c = await runBackfillChunk(db, { fence });
      if (c.state === "fenced") break;
      if (c.state === "done") {
        done = true;
        break;
      }
      hours++;
      rows += c.rows;
    } while (performance.now() - t0 < budgetMs);
    since.rows += rows;
    if (done) {
      finished = true;
      const s = await featureBackfillStatus(db);
      logger.info(
        { hoursDone: s?.hoursDone, rowsDone: s?.rowsDone },
        "feature backfill: done; every kept hour's old rows are summed",
      );
      await lease.release();
    } else if (Date.now() - lastLog >= logEveryMs) {
      const s = await featureBackfillStatus(db);
      const secs = Math.max(0.001, (Date.now() - since.at) / 1000);
      logger.info(
        {
          hoursLeft: s?.hoursLeft,
          next: s?.next.toISOString(),
          rowsDone: s?.rowsDone,
          rowsPerSecond: Math.round(since.rows / secs),
        },
        "feature backfill: in progress (newest hours first)",
      );
      lastLog = Date.now();
      since = { at: Date.now(), rows: 0 };
    }
    return { held: true, hours, rows, done };
  }

  const job = periodicJob({
    intervalMs,
    once,
    onError: (err) => logger.warn({ err }, "feature backfill chunk failed; retried next tick"),
    onStop: () => lease.release(),
  });
  return { holder, ...job };
}

export type FeatureBackfillJob = ReturnType<typeof createFeatureBackfillJob>;

/**
 * `modelgov_feature_backfill_hours_left` (at most; 0 once done) and
 * `modelgov_feature_backfill_rows_done`, read from the database at scrape time.
 */
export function registerFeatureBackfillMetrics(registry: Registry, db: Queryable) {
  const registers = [registry];
  new Gauge({
    name: "modelgov_feature_backfill_hours_left",
    help: "Hours of the request log still to backfill into the feature roll-ups (at most; 0 when done)",
    registers,
    async collect() {
      this.set((await featureBackfillStatus(db))?.hoursLeft ?? 0);
    },
  });
  new Gauge({
    name: "modelgov_feature_backfill_rows_done",
    help: "Requests logged before the features migration whose sums the backfill job has added",
    registers,
    async collect() {
      this.set((await featureBackfillStatus(db))?.rowsDone ?? 0);
    },
  });
}
