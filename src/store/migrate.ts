import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Db, Queryable } from "./db.ts";

function migrationsDir(): string {
  // From src/ the folder sits beside this file; from dist/ it ships under src/store/migrations.
  const candidates = [
    new URL("./migrations/", import.meta.url),
    new URL("../../src/store/migrations/", import.meta.url),
  ];
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (existsSync(p)) return p;
  }
  throw new Error("migrations folder not found");
}

export interface Migration {
  name: string;
  sql: string;
}

export function loadMigrations(dir = migrationsDir()): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{14}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((name) => ({ name, sql: readFileSync(`${dir}/${name}`, "utf8") }));
}

/**
 * Applies pending forward-only migrations in one transaction. A transaction-scoped
 * advisory lock serialises replicas starting at once (safe behind transaction poolers,
 * unlike session locks).
 */
export async function migrate(db: Db, migrations = loadMigrations()): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(7070001)");
    // Under the lock: two replicas racing on CREATE TABLE IF NOT EXISTS collide in the catalog.
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name TEXT PRIMARY KEY,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`);
    const done = new Set(
      (await tx.query<{ name: string }>("SELECT name FROM schema_migrations")).map((r) => r.name),
    );
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.name)) continue;
      await tx.exec(m.sql);
      await tx.query("INSERT INTO schema_migrations (name) VALUES ($1)", [m.name]);
      applied.push(m.name);
    }
    return applied;
  });
}

export interface MigrationStatus {
  /** The role this connection runs as. */
  role: string;
  /** The role that owns schema_migrations (the one migrations ran as); null before the first run. */
  owner: string | null;
  /** Migrations not yet applied, in order. */
  pending: string[];
  /** Whether this role may run them: it owns the schema's tables (or is a member of, or superuser over, their owner). */
  canMigrate: boolean;
}

/**
 * What is pending and whether this connection may apply it, without taking a lock or running
 * any DDL: a least-privilege role (docs/audit.md) can read this, never migrate.
 */
export async function migrationStatus(
  db: Queryable,
  migrations = loadMigrations(),
): Promise<MigrationStatus> {
  const [s] = await db.query<{ role: string; owner: string | null; present: boolean; can_migrate: boolean }>(
    `WITH m AS (SELECT c.relowner FROM pg_class c WHERE c.oid = to_regclass('schema_migrations'))
     SELECT current_user::text AS role,
            (SELECT pg_get_userbyid(relowner)::text FROM m) AS owner,
            EXISTS (SELECT 1 FROM m) AS present,
            COALESCE((SELECT pg_has_role(current_user, relowner, 'USAGE') FROM m),
                     has_schema_privilege(current_schema(), 'CREATE')) AS can_migrate`,
  );
  const done = s!.present
    ? new Set((await db.query<{ name: string }>("SELECT name FROM schema_migrations")).map((r) => r.name))
    : new Set<string>();
  return {
    role: s!.role,
    owner: s!.owner,
    pending: migrations.filter((m) => !done.has(m.name)).map((m) => m.name),
    canMigrate: s!.can_migrate,
  };
}

/**
 * What `serve` runs: pending migrations are applied when this role owns the schema (a laptop,
 * a one-role set-up); under a least-privilege role the server refuses to start and says what to
 * run, instead of failing half-way through a migration or, worse, creating tables it would own.
 */
export async function migrateOnStart(
  db: Db,
  migrations = loadMigrations(),
): Promise<{ applied: string[]; status: MigrationStatus }> {
  const status = await migrationStatus(db, migrations);
  if (!status.pending.length) return { applied: [], status };
  if (!status.canMigrate)
    throw new Error(
      `${status.pending.length} database migration(s) pending (${status.pending.join(", ")}), and role ${status.role} may not apply them (${
        status.owner ? `the tables belong to ${status.owner}` : "it cannot create tables"
      }): run \`modelgov migrate\` with MODELGOV_MIGRATE_DATABASE_URL set to the owner's connection, then \`modelgov db grants --role ${status.role} --apply\`, then start the server again`,
    );
  return { applied: await migrate(db, migrations), status };
}
