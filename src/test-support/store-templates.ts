import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { openPglite, openPostgres, type PgliteDb } from "../store/db.ts";
import { loadMigrations, migrate } from "../store/migrate.ts";

/**
 * Migrated databases to copy, built once and shared by every suite (and every test process):
 * opening PGlite runs an initdb (several seconds of WebAssembly), then every migration; a
 * copy of a migrated data directory opens in a fraction of that. On PostgreSQL the same holds
 * for CREATE DATABASE … TEMPLATE. Both are named by a hash of the migrations (and the PGlite
 * build), so an edited or added migration gets a new template and a stale one is never used.
 */

const CACHE_DIR = fileURLToPath(new URL("../../node_modules/.cache/modelgov-tests/", import.meta.url));
const PGLITE_PACKAGE = new URL("../../node_modules/@electric-sql/pglite/package.json", import.meta.url);

/** Hash of what a migrated database is made of: the migrations' names and SQL, and the PGlite version. */
export function migrationsKey(): string {
  const h = createHash("sha256");
  h.update(pgliteVersion());
  for (const m of loadMigrations()) h.update(`\0${m.name}\0${m.sql}`);
  return h.digest("hex").slice(0, 16);
}

/** A lock held this long is taken to be left by a process that died while building. */
const STALE_LOCK_MS = 180_000;

const pgliteDumps = new Map<string, Promise<string>>();

/**
 * The path of a tarball holding a fully migrated PGlite data directory (for `openPglite`'s
 * `fromDump`), built on first use.
 */
export function migratedPgliteDump(): Promise<string> {
  return cachedPgliteDump(`pglite-migrated-${migrationsKey()}`, async () => {
    const db = await openPglite(undefined, { fromDump: await emptyPgliteDump() });
    await migrate(db);
    return db;
  });
}

/**
 * The path of a tarball holding a PGlite data directory just after its initdb (no migration):
 * what `openPglite()` makes in about five seconds of WebAssembly, opened from here in one.
 */
export function emptyPgliteDump(): Promise<string> {
  return cachedPgliteDump(`pglite-empty-${pgliteVersion()}`, () => openPglite());
}

const pgliteVersion = () => JSON.parse(readFileSync(PGLITE_PACKAGE, "utf8")).version as string;

/**
 * A dump named `name` in the cache, built by `build` on first use. Test processes run side by
 * side: one builds it under a lock file and publishes it by an atomic rename; the others wait.
 */
function cachedPgliteDump(name: string, build: () => Promise<PgliteDb>): Promise<string> {
  let p = pgliteDumps.get(name);
  if (p) return p;
  p = (async () => {
    const file = `${CACHE_DIR}${name}.tar`;
    const lock = `${file}.lock`;
    mkdirSync(CACHE_DIR, { recursive: true });
    for (;;) {
      if (existsSync(file)) return file;
      let fd: number;
      try {
        fd = openSync(lock, "wx");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        try {
          if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
        } catch {}
        await sleep(200);
        continue;
      }
      try {
        const tmp = `${file}.${process.pid}.tmp`;
        const db = await build();
        try {
          await db.dumpTo(tmp);
        } finally {
          await db.close();
        }
        renameSync(tmp, file);
        return file;
      } finally {
        closeSync(fd);
        rmSync(lock, { force: true });
      }
    }
  })();
  pgliteDumps.set(name, p);
  p.catch(() => pgliteDumps.delete(name));
  return p;
}

/**
 * Makes `dataDir` (a server's --data-dir, empty) hold a migrated embedded store, as a server
 * started on it once would leave it, minus the initdb and migrations that first start spends.
 * For suites whose subject is not the first start; returns `dataDir`. The migrated dump's files
 * are written out as they are: what PGlite's own `fromDump` does before it starts, without
 * starting a database in this process only to close it (a second or two of CPU per call).
 */
export async function migratedDataDir(dataDir: string): Promise<string> {
  untar(await migratedPgliteDump(), path.join(dataDir, "pgdata"));
  return dataDir;
}

/** Writes the entries of a tarball from `dumpTo` (ustar: directories and files) under `dir`. */
function untar(file: string, dir: string): void {
  const tar = readFileSync(file);
  const field = (at: number, length: number) => {
    const bytes = tar.subarray(at, at + length);
    const end = bytes.indexOf(0);
    return bytes.subarray(0, end < 0 ? length : end).toString("utf8");
  };
  for (let at = 0; at + 512 <= tar.length; ) {
    const name = field(at, 100);
    if (!name) break; // the zero blocks that end the archive
    const prefix = field(at + 345, 155);
    const mode = Number.parseInt(field(at + 100, 8), 8);
    const size = Number.parseInt(field(at + 124, 12), 8);
    const type = field(at + 156, 1);
    const target = path.join(dir, prefix ? `${prefix}/${name}` : name);
    if (type === "5") mkdirSync(target, { recursive: true, mode });
    else if (type === "0" || type === "") {
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, tar.subarray(at + 512, at + 512 + size), { mode });
    } else
      throw new Error(`${file}: entry ${name} is of type '${type}' (only files and directories are read)`);
    at += 512 + Math.ceil(size / 512) * 512;
  }
}

const templates = new Map<string, Promise<string>>();

/**
 * The name of a migrated database on the server at `serverUrl` to copy with CREATE DATABASE …
 * TEMPLATE, built on first use. Processes racing to build it are serialised by an advisory
 * lock on a short-lived connection; the database is built under a temporary name and renamed
 * when complete, so a name that exists is always a finished template. Nothing stays connected
 * to it (a template with connections cannot be copied).
 */
export function migratedPostgresTemplate(serverUrl: string): Promise<string> {
  let p = templates.get(serverUrl);
  if (!p) {
    p = buildPostgresTemplate(serverUrl);
    templates.set(serverUrl, p);
    p.catch(() => templates.delete(serverUrl));
  }
  return p;
}

async function buildPostgresTemplate(serverUrl: string): Promise<string> {
  const name = `modelgov_template_${migrationsKey()}`;
  const admin = openPostgres(serverUrl, { max: 1 });
  try {
    return await admin.transaction(async (tx) => {
      // Transaction-scoped: released by COMMIT, or when this connection ends, whatever happens.
      await tx.query("SELECT pg_advisory_xact_lock(7070002)");
      const exists = await tx.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
      if (exists.length) return name;
      const building = `${name}_building`;
      // CREATE DATABASE cannot run in a transaction block: a second connection does the DDL
      // while this one holds the lock.
      const ddl = openPostgres(serverUrl, { max: 1 });
      try {
        await ddl.exec(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
        await ddl.exec(`CREATE DATABASE ${building}`);
        const u = new URL(serverUrl);
        u.pathname = `/${building}`;
        const db = openPostgres(u.toString(), { max: 1 });
        try {
          await migrate(db);
        } finally {
          await db.close();
        }
        await ddl.exec(`ALTER DATABASE ${building} RENAME TO ${name}`);
      } finally {
        await ddl.close();
      }
      return name;
    });
  } finally {
    await admin.close();
  }
}
