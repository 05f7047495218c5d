import type { Queryable } from "../store/db.ts";

/**
 * A store that can be "stopped": while `down`, every query fails the way a refused
 * connection does; `hang` makes inserts wait until released. Counts the INSERT statements
 * that reached the real store, so batching is observable.
 */
export interface FlakyDb extends Queryable {
  down: boolean;
  inserts: number;
  /** Inserts wait until `release()` (a database that accepts the connection and never answers). */
  hang(): void;
  release(): void;
}

export function flakyDb(db: Queryable): FlakyDb {
  let gate: Promise<void> | null = null;
  let open: (() => void) | null = null;
  const f: FlakyDb = {
    down: false,
    inserts: 0,
    async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
      if (f.down)
        throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
      if (/^\s*INSERT/i.test(sql)) {
        if (gate) await gate;
        f.inserts++;
      }
      return db.query<T>(sql, params);
    },
    hang() {
      gate = new Promise((r) => {
        open = r;
      });
    },
    release() {
      open?.();
      gate = null;
    },
  };
  return f;
}

/** Polls until `check` holds (or fails after `ms`). */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 5000, what = "condition") {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
