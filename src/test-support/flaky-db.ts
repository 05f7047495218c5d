import type { CopyCapable, Db, Queryable, Tx } from "../store/db.ts";

/**
 * A store that can be "stopped": while `down`, every query fails the way a refused
 * connection does; `hang` makes inserts wait until released. Counts the INSERT statements
 * that reached the real store, so batching is observable.
 */
export interface FlakyDb extends Queryable, Pick<Db, "transaction"> {
  down: boolean;
  inserts: number;
  /** Inserts wait until `release()` (a database that accepts the connection and never answers). */
  hang(): void;
  release(): void;
}

/** `bulk`: keep the store's COPY path inside transactions (hidden by default: the INSERT path). */
export function flakyDb(db: Queryable & Pick<Db, "transaction">, opts: { bulk?: boolean } = {}): FlakyDb {
  let gate: Promise<void> | null = null;
  let open: (() => void) | null = null;
  const refused = () =>
    Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
  /** Fails while down; counts (and holds, while hung) the batches' writes: INSERT and COPY. */
  async function gateWrite(sql: string) {
    if (f.down) throw refused();
    if (/^\s*(INSERT INTO|COPY) (request_log|feedback) /i.test(sql)) {
      if (gate) await gate;
      f.inserts++;
    }
  }
  const wrap = ({ copyFrom: _hidden, ...q }: Queryable & Partial<Pick<Tx, "exec"> & CopyCapable>) => ({
    ...q,
    async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
      await gateWrite(sql);
      return q.query<T>(sql, params);
    },
    ...(opts.bulk && _hidden
      ? {
          copyFrom: async (sql: string, data: string) => {
            await gateWrite(sql);
            await _hidden(sql, data);
          },
        }
      : {}),
  });
  const f: FlakyDb = {
    down: false,
    inserts: 0,
    async query<T>(sql: string, params?: unknown[]): Promise<T[]> {
      await gateWrite(sql);
      return db.query<T>(sql, params);
    },
    async transaction(fn) {
      if (f.down) throw refused();
      return db.transaction((tx) => fn(wrap(tx) as Tx));
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
