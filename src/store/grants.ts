import type { Db, Queryable } from "./db.ts";

/**
 * The least-privilege set-up for a real PostgreSQL server (docs/audit.md): migrations run as
 * an owner role; the server runs as a role that owns nothing, so it can neither ALTER a table
 * nor DISABLE its triggers, and is granted per table only what the code does to it.
 *
 * What each table gets is read from the schema, not kept in a list here: a table whose rows
 * the migrations made append-only (a `modelgov_no_update` trigger) gets SELECT and INSERT, one
 * that refuses deletes (`modelgov_no_delete`) no DELETE, the chain head SELECT and UPDATE (its
 * guard trigger lets an UPDATE only move it forward over linked events). So a table a later
 * migration adds falls into its class when the grants are applied again after `migrate`.
 * TRUNCATE, REFERENCES and TRIGGER are never granted.
 */

export type Privilege = "SELECT" | "INSERT" | "UPDATE" | "DELETE";

export interface TableFacts {
  name: string;
  owner: string;
  /** Functions of the table's own triggers (the append-only guards among them). */
  triggerFunctions: string[];
}

export interface SchemaFacts {
  database: string;
  schema: string;
  /** Who is connected (the one the grants would be applied as). */
  currentUser: string;
  /** The role migrations ran as (owner of schema_migrations): later tables are created by it. */
  migrationsOwner: string | null;
  tables: TableFacts[];
}

export interface TableGrant {
  table: string;
  privileges: Privilege[];
  why: string;
}

/** Tables whose class no trigger shows. */
const SPECIAL: Record<string, { privileges: Privilege[]; why: string }> = {
  schema_migrations: { privileges: ["SELECT"], why: "read at start to check migrations are current" },
  // Rows are marked dispatched, never removed: losing one would lose a webhook notification.
  event_outbox: {
    privileges: ["SELECT", "INSERT", "UPDATE"],
    why: "the audit log's delivery queue: marked dispatched, never deleted",
  },
};

export function tableGrants(tables: readonly TableFacts[]): TableGrant[] {
  return [...tables]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((t) => {
      const special = SPECIAL[t.name];
      if (special) return { table: t.name, ...special };
      const fns = new Set(t.triggerFunctions);
      if (fns.has("audit_chain_head_guard"))
        return {
          table: t.name,
          privileges: ["SELECT", "UPDATE"],
          why: "the chain head: its trigger lets an UPDATE only move it forward over linked events",
        };
      if (fns.has("modelgov_no_update"))
        return { table: t.name, privileges: ["SELECT", "INSERT"], why: "append-only" };
      if (fns.has("modelgov_no_delete"))
        return { table: t.name, privileges: ["SELECT", "INSERT", "UPDATE"], why: "rows are never deleted" };
      return { table: t.name, privileges: ["SELECT", "INSERT", "UPDATE", "DELETE"], why: "working state" };
    });
}

export async function readSchemaFacts(db: Queryable): Promise<SchemaFacts> {
  const [s] = await db.query<{
    database: string;
    schema: string;
    current_user: string;
    owner: string | null;
  }>(
    `SELECT current_database()::text AS database, current_schema()::text AS schema, current_user::text AS current_user,
            (SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE oid = to_regclass('schema_migrations')) AS owner`,
  );
  const rows = await db.query<{ name: string; owner: string; fns: string[] | null }>(
    `SELECT c.relname::text AS name, pg_get_userbyid(c.relowner)::text AS owner,
            array_agg(DISTINCT p.proname::text) FILTER (WHERE p.proname IS NOT NULL) AS fns
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal
       LEFT JOIN pg_proc p ON p.oid = t.tgfoid
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      GROUP BY c.relname, c.relowner
      ORDER BY c.relname`,
  );
  return {
    database: s!.database,
    schema: s!.schema,
    currentUser: s!.current_user,
    migrationsOwner: s!.owner,
    tables: rows.map((r) => ({ name: r.name, owner: r.owner, triggerFunctions: r.fns ?? [] })),
  };
}

/** A role name as PostgreSQL folds it unquoted: the SQL below then never needs quoting rules. */
export const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** The script, commented, that `db grants` prints or applies. Safe to run again. */
export function grantsSql(role: string, facts: SchemaFacts): string {
  if (!ROLE_NAME.test(role)) throw new Error(`role: '${role}' is not a plain role name (a-z, 0-9, _)`);
  const schema = ident(facts.schema);
  const owner = facts.migrationsOwner;
  const out: string[] = [
    `-- modelgov least-privilege grants for role ${role} on database ${facts.database}, schema ${facts.schema}.`,
    `-- Apply as the role that runs migrations (${owner ?? "not yet migrated"}); run again after every \`modelgov migrate\`.`,
    "-- The role is created without a password: set one with ALTER ROLE ... PASSWORD, or use your usual authentication.",
    "DO $$",
    "BEGIN",
    `  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN`,
    `    CREATE ROLE ${role} LOGIN;`,
    "  END IF;",
    "END",
    "$$;",
    "-- It must own nothing: an owner can ALTER TABLE ... DISABLE TRIGGER. So no CREATE in the schema",
    "-- (PostgreSQL 14 and older grant that to everyone), only USAGE.",
    `REVOKE CREATE ON SCHEMA ${schema} FROM PUBLIC;`,
    `REVOKE ALL ON SCHEMA ${schema} FROM ${role};`,
    `GRANT USAGE ON SCHEMA ${schema} TO ${role};`,
    `GRANT CONNECT ON DATABASE ${ident(facts.database)} TO ${role};`,
    "-- Start from nothing, then grant per table what the code does to it.",
    `REVOKE ALL ON ALL TABLES IN SCHEMA ${schema} FROM ${role};`,
    `REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${schema} FROM ${role};`,
  ];
  for (const g of tableGrants(facts.tables))
    out.push(`GRANT ${g.privileges.join(", ")} ON ${schema}.${ident(g.table)} TO ${role}; -- ${g.why}`);
  out.push(
    "-- Serial columns draw from sequences.",
    `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ${role};`,
  );
  if (owner)
    out.push(
      "-- Tables a later migration creates are usable before the grants are applied again (the server",
      "-- keeps working); append-only ones stay guarded by their triggers, which this role cannot disable.",
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(owner)} IN SCHEMA ${schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${role};`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(owner)} IN SCHEMA ${schema} GRANT USAGE, SELECT ON SEQUENCES TO ${role};`,
    );
  return `${out.join("\n")}\n`;
}

/**
 * Why `role` cannot be the least-privilege role, if it exists: a superuser, the owner of a
 * table, or a member of an owner's role can disable the triggers and rewrite the log.
 */
export async function roleProblems(db: Queryable, role: string, facts: SchemaFacts): Promise<string[]> {
  const [r] = await db.query<{ super: boolean }>(
    "SELECT rolsuper AS super FROM pg_roles WHERE rolname = $1",
    [role],
  );
  if (!r) return [];
  const problems: string[] = [];
  if (r.super) problems.push(`${role} is a superuser: it can do anything, triggers or not`);
  if (role === facts.currentUser || role === facts.migrationsOwner)
    problems.push(`${role} is the role that runs migrations; the server needs a role of its own`);
  const owned = facts.tables.filter((t) => t.owner === role).map((t) => t.name);
  if (owned.length)
    problems.push(
      `${role} owns ${owned.join(", ")}: it could disable their triggers (ALTER TABLE ... OWNER TO the migrations role first)`,
    );
  const owners = [...new Set(facts.tables.map((t) => t.owner))].filter((o) => o !== role);
  for (const o of owners) {
    const [m] = await db.query<{ member: boolean }>("SELECT pg_has_role($1, $2, 'MEMBER') AS member", [
      role,
      o,
    ]);
    if (m?.member) problems.push(`${role} is a member of ${o}, which owns tables: revoke that membership`);
  }
  return problems;
}

/** Applies the script in one transaction, as the connected role (the migrations' owner). */
export async function applyGrants(db: Db, role: string): Promise<{ sql: string; problems: string[] }> {
  const facts = await readSchemaFacts(db);
  const problems = await roleProblems(db, role, facts);
  const sql = grantsSql(role, facts);
  if (problems.length) return { sql, problems };
  await db.transaction((tx) => tx.exec(sql));
  return { sql, problems };
}
