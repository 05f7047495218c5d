import type { Queryable } from "../../store/db.ts";

/*
 * request_log and feedback are partitioned by UTC day. A writer makes sure the days of its
 * batch have a partition before inserting (the retention job makes them ahead of time too;
 * this covers a replayed spool, a skewed clock, a test's fake clock). Each process remembers
 * the days it has seen, so this costs one statement per new day, not per batch.
 */

export type LogTable = "request_log" | "feedback";

/** The UTC day of an instant, as YYYY-MM-DD. */
export const dayOf = (at: unknown): string => new Date(at as string).toISOString().slice(0, 10);

/** True for the error a row gets when no partition covers its day (check_violation, 23514). */
export function isMissingPartition(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e?.code === "23514" && /no partition/i.test(String(e.message));
}

export interface PartitionCache {
  /** Makes the partitions for these instants' days, unless already seen. */
  ensure(q: Queryable, table: LogTable, ats: Iterable<unknown>): Promise<void>;
  /** Forgets what was seen (a partition was dropped under us). */
  forget(): void;
}

export function createPartitionCache(): PartitionCache {
  const seen = new Set<string>();
  return {
    async ensure(q, table, ats) {
      const days = new Set<string>();
      for (const at of ats) {
        const day = dayOf(at);
        if (!seen.has(`${table}:${day}`)) days.add(day);
      }
      for (const day of [...days].sort()) {
        await q.query("SELECT modelgov_ensure_day_partition($1, $2::date)", [table, day]);
        seen.add(`${table}:${day}`);
      }
    },
    forget() {
      seen.clear();
    },
  };
}
