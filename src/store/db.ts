import pg from "pg";
import { conflict } from "../lib/errors.ts";
import { lockDataDir } from "./data-dir-lock.ts";
import { startPgliteThread } from "./pglite-client.ts";

/** Which field a unique constraint guards, for the 409 a racing duplicate gets. */
const UNIQUE_FIELDS: Record<string, string> = {
  models_name_key: "name",
  model_versions_model_id_major_minor_patch_prerelease_key: "version",
  card_revisions_version_id_revision_key: "revision",
  kill_switches_engaged: "body.target",
  // Two creates racing on one flag key: the loser's row (or revision) collides.
  flags_pkey: "key",
  flag_revisions_pkey: "key",
};

/**
 * Two requests that both pass a "does it exist?" check race to the unique index; the
 * loser gets the same 409 a sequential duplicate gets, never a 500.
 */
export function translateDbError(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string; detail?: string };
  if (e?.code === "23505") {
    const field = UNIQUE_FIELDS[e.constraint ?? ""] ?? e.constraint ?? "unknown";
    return conflict(`${field} already exists${e.detail ? ` (${e.detail})` : ""}`, [
      { field, reason: "already exists" },
    ]);
  }
  return err;
}

async function translated<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw translateDbError(err);
  }
}

/** What a query needs: both the pool and a transaction offer it. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/**
 * A store that can bulk-load text in one statement: `COPY <table> (<columns>) FROM '/dev/blob'
 * WITH (FORMAT csv)` reading `data`. The embedded store has it (several times cheaper per row
 * than an INSERT there); callers check for it and fall back to an INSERT.
 */
export interface CopyCapable {
  copyFrom(sql: string, data: string): Promise<void>;
}

export const canCopy = (q: unknown): q is CopyCapable =>
  typeof (q as Partial<CopyCapable> | null)?.copyFrom === "function";

export interface Tx extends Queryable {
  /** Runs a script of several statements inside the transaction. */
  exec(sql: string): Promise<void>;
  /**
   * Runs `hook` once, after the transaction's work and just before COMMIT. Locks taken
   * here are the last the transaction takes (the audit chain head): no lock cycle can form.
   */
  beforeCommit(key: string, hook: (tx: Queryable) => Promise<void>): void;
}

/** Adds before-commit hooks to a transaction and runs them when its work is done. */
function withHooks<T>(
  base: Omit<Tx, "beforeCommit"> & Partial<CopyCapable>,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  const hooks = new Map<string, (tx: Queryable) => Promise<void>>();
  const tx: Tx = {
    ...base,
    beforeCommit(key, hook) {
      if (!hooks.has(key)) hooks.set(key, hook);
    },
  };
  return fn(tx).then(async (result) => {
    for (const hook of hooks.values()) await hook(base);
    return result;
  });
}

export interface Db extends Queryable {
  readonly kind: "pglite" | "postgres";
  /** The connection string, for a real server (a second connection, e.g. LISTEN). */
  readonly url?: string;
  /** Where LISTEN connects, for a real server: a direct (or session-pooled) URL, else `url`. */
  readonly listenUrl?: string;
  /** Runs `fn` in one transaction: commit on return, rollback on throw. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
  ping(): Promise<void>;
  /**
   * Calls `onNotify(payload)` for each NOTIFY on `channel` (after the notifying transaction
   * commits). Returns an unsubscribe function. PostgreSQL: one dedicated connection that
   * reconnects; PGlite: in-process.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** The embedded store's extras: bulk loads, and a copy of its data directory. */
export interface PgliteDb extends Db, CopyCapable {
  /** Writes the whole data directory to `file` as a tarball that `openPglite`'s `fromDump` starts from. */
  dumpTo(file: string): Promise<void>;
}

/**
 * Embedded PostgreSQL: a data folder, or in memory when `dataDir` is undefined. PGlite runs
 * on its own thread (pglite-worker.ts), so its work never stalls the event loop. `fromDump`
 * (a tarball from `dumpTo`) fills a new, empty database with that copy instead of an initdb.
 */
export async function openPglite(dataDir?: string, opts: { fromDump?: string } = {}): Promise<PgliteDb> {
  // One process per data folder: a second one refuses here, naming the folder and its holder.
  const unlock = dataDir ? lockDataDir(dataDir) : () => {};
  const thread = await startPgliteThread(dataDir, opts.fromDump).catch((err: unknown) => {
    unlock();
    throw err;
  });
  const query = async <T>(sql: string, params: unknown[] | undefined, tx: number | undefined) =>
    (await translated(thread.call({ op: "query", sql, params, tx }))) as T[];
  return {
    kind: "pglite",
    query: (sql, params) => query(sql, params, undefined),
    // Not translated: a bulk load's caller reads the SQLSTATE (a unique violation is 23505, not a 409).
    copyFrom: async (sql, data) => {
      await thread.call({ op: "copy", sql, data });
    },
    dumpTo: async (file) => {
      await thread.call({ op: "dump", path: file });
    },
    async transaction(fn) {
      const tx = (await thread.call({ op: "begin" })) as number;
      let result: Awaited<ReturnType<typeof fn>>;
      try {
        result = await withHooks(
          {
            query: (sql, params) => query(sql, params, tx),
            copyFrom: async (sql: string, data: string) => {
              await thread.call({ op: "copy", sql, data, tx });
            },
            exec: async (sql) => {
              await translated(thread.call({ op: "exec", sql, tx }));
            },
          },
          fn,
        );
      } catch (err) {
        await thread.call({ op: "rollback", tx }).catch(() => {});
        throw err;
      }
      // A failed COMMIT has ended the transaction already: nothing to roll back.
      await translated(thread.call({ op: "commit", tx }));
      return result;
    },
    exec: async (sql) => {
      await translated(thread.call({ op: "exec", sql, tx: undefined }));
    },
    ping: async () => {
      await thread.call({ op: "query", sql: "select 1", params: undefined, tx: undefined });
    },
    listen: (channel, onNotify) => thread.listen(channel, onNotify),
    close: () => thread.close().finally(unlock),
  };
}

const KEEPALIVE = { keepAlive: true, keepAliveInitialDelayMillis: 5_000 } as const;
const PING_TIMEOUT_MS = 2_000;

/**
 * A real PostgreSQL server, through a connection pool. Every statement runs as one unnamed
 * extended-protocol query or inside one transaction, with no session state (no session
 * advisory locks, no SET outside a transaction, no named prepared statements), so `url` may
 * be a pooler in transaction mode (PgBouncer pool_mode=transaction). LISTEN needs a session of
 * its own: it connects to `listenUrl` (PostgreSQL itself, or a session-mode pool), else `url`.
 */
export function openPostgres(url: string, opts: { max?: number; listenUrl?: string | undefined } = {}): Db {
  const listenUrl = opts.listenUrl ?? url;
  // TCP keepalive from 5 s idle (the system default waits 2 h): a silent peer is noticed sooner.
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, ...KEEPALIVE });
  // A dropped idle connection must not crash the process; the next query reconnects.
  pool.on("error", () => {});
  return {
    kind: "postgres",
    url,
    listenUrl,
    query: async (sql, params) => (await translated(pool.query(sql, params))).rows,
    transaction: async (fn) => {
      const client = await pool.connect();
      // A checked-out client has none of the pool's error listeners: a connection reset between
      // two of its queries would be an unhandled 'error' and end the process (a database
      // outage under load did). Note it, and throw the broken client away on release.
      let broken: Error | undefined;
      const onError = (err: Error) => {
        broken = err;
      };
      client.on("error", onError);
      try {
        await client.query("BEGIN");
        const result = await withHooks(
          {
            query: async <T>(sql: string, params?: unknown[]) =>
              (await translated(client.query(sql, params))).rows as T[],
            exec: async (sql: string) => {
              await client.query(sql);
            },
          },
          fn,
        );
        await client.query("COMMIT");
        return result;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => {});
        throw err;
      } finally {
        client.off("error", onError);
        client.release(broken);
      }
    },
    exec: async (sql) => {
      await pool.query(sql);
    },
    ping: async () => {
      // A partitioned server never answers: readiness says so (503) instead of hanging with it.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the database did not answer within ${PING_TIMEOUT_MS} ms`)),
          PING_TIMEOUT_MS,
        );
      });
      await Promise.race([pool.query("select 1"), late]).finally(() => clearTimeout(timer));
    },
    listen: (channel, onNotify) => listenPostgres(listenUrl, channel, onNotify),
    close: () => pool.end(),
  };
}

/** A LISTEN connection that comes back by itself after a drop (a missed notification is covered by the periodic re-read). */
async function listenPostgres(url: string, channel: string, onNotify: (payload: string) => void) {
  let client: pg.Client | null = null;
  let stopped = false;
  const connect = async (): Promise<void> => {
    if (stopped) return;
    const c = new pg.Client({ connectionString: url, ...KEEPALIVE });
    c.on("notification", (n) => {
      if (n.channel === channel) onNotify(n.payload ?? "");
    });
    c.on("error", () => {
      c.end().catch(() => {});
      if (!stopped) setTimeout(() => void connect().catch(() => {}), 1000).unref();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      client = c;
    } catch {
      await c.end().catch(() => {});
      if (!stopped) setTimeout(() => void connect().catch(() => {}), 1000).unref();
    }
  };
  await connect();
  return async () => {
    stopped = true;
    await client?.end().catch(() => {});
  };
}

export async function openDb(opts: {
  databaseUrl?: string | undefined;
  /** For LISTEN only (MODELGOV_DATABASE_DIRECT_URL): DATABASE_URL may be a transaction-mode pooler. */
  directUrl?: string | undefined;
  dataDir?: string | undefined;
}): Promise<Db> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, { listenUrl: opts.directUrl });
  return openPglite(opts.dataDir);
}
