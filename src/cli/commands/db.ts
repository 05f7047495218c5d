import { type Command, InvalidArgumentError } from "commander";
import { CliError } from "../errors.ts";
import type { Io } from "../output.ts";

type Ctx = { io: Io; json: () => boolean; fail: (code: number) => void; env: NodeJS.ProcessEnv };

const roleArg = (value: string) => {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(value))
    throw new InvalidArgumentError(`expected a plain role name (a-z, 0-9, _), got '${value}'`);
  return value;
};

/**
 * The owner's connection: MODELGOV_MIGRATE_DATABASE_URL, else DATABASE_URL (one role for
 * everything, as on a laptop). The server itself never reads the first.
 */
async function ownerUrl(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  // Loaded here: the configuration's schema costs every other command's start-up.
  const { loadConfig } = await import("../../config.ts");
  const config = loadConfig({}, env);
  return config.migrateDatabaseUrl ?? config.databaseUrl;
}

/**
 * `db grants` and `db status` talk to PostgreSQL directly, as the migrations' owner: they set
 * up the role the server runs as, which the server cannot do for itself.
 */
export function registerDbCommands(program: Command, ctx: Ctx) {
  const db = program
    .command("db")
    .description("the PostgreSQL set-up: least-privilege grants for the server's role, migration status");

  db.command("grants")
    .description(
      "print (or --apply, as the migrations' owner) the SQL that lets --role run the server but not alter the audit log: no ownership, no TRUNCATE, no UPDATE/DELETE on append-only tables; run again after every migrate",
    )
    .option("--role <name>", "the role the server connects as", roleArg, "modelgov_app")
    .option("--apply", "run it now, through MODELGOV_MIGRATE_DATABASE_URL (else DATABASE_URL)")
    .action(async (o) => {
      const url = await ownerUrl(ctx.env);
      if (!url) {
        throw new CliError(
          "least-privilege roles need a PostgreSQL server: set MODELGOV_MIGRATE_DATABASE_URL (or DATABASE_URL) to the owner's connection (the embedded store runs as one superuser)",
        );
      }
      const { openPostgres } = await import("../../store/db.ts");
      const { applyGrants, grantsSql, readSchemaFacts, roleProblems } = await import("../../store/grants.ts");
      const conn = openPostgres(url, { max: 1 });
      try {
        const facts = await readSchemaFacts(conn);
        if (!facts.migrationsOwner) {
          throw new CliError("this database has no modelgov tables yet: run `modelgov migrate` first");
        }
        const { sql, problems } = o.apply
          ? await applyGrants(conn, o.role)
          : { sql: grantsSql(o.role, facts), problems: await roleProblems(conn, o.role, facts) };
        if (problems.length) throw new CliError(problems);
        if (!o.apply) return ctx.io.out(sql.trimEnd());
        ctx.io.out(
          `applied: ${o.role} may use ${facts.tables.length} tables in ${facts.database}.${facts.schema} as granted, owns none, and cannot truncate, update or delete the audit log`,
        );
      } finally {
        await conn.close();
      }
    });

  db.command("status")
    .description(
      "the role connected as, the migrations' owner, and pending migrations (exit 1 when some are)",
    )
    .option("--data-dir <dir>", "embedded store folder (default ./.modelgov)")
    .action(async (o) => {
      const { openDb } = await import("../../store/db.ts");
      const { migrationStatus } = await import("../../store/migrate.ts");
      const { loadConfig } = await import("../../config.ts");
      const config = loadConfig({ dataDir: o.dataDir }, ctx.env);
      // The server's own connection: what it would find at start.
      const conn = await openDb({
        databaseUrl: config.databaseUrl,
        dataDir: config.databaseUrl ? undefined : `${config.dataDir}/pgdata`,
      });
      try {
        const s = await migrationStatus(conn);
        if (s.pending.length) ctx.fail(1);
        if (ctx.json()) return ctx.io.out(JSON.stringify(s, null, 2));
        ctx.io.out(`role: ${s.role}${s.canMigrate ? " (may migrate)" : " (may not migrate)"}`);
        ctx.io.out(`migrations owner: ${s.owner ?? "none yet"}`);
        ctx.io.out(s.pending.length ? `pending: ${s.pending.join(", ")}` : "pending: none");
      } finally {
        await conn.close();
      }
    });
}
