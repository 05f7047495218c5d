import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runCli } from "../cli/main.ts";
import { loadConfig } from "../config.ts";
import { manualClock } from "../lib/clock.ts";
import { readHead } from "../modules/audit/index.ts";
import { createServices } from "../services.ts";
import { migratedPgliteDump } from "../test-support/store-templates.ts";
import { ctx, POSTGRES_SKIP, testDatabaseUrl } from "../test-support/stores.ts";
import { type Db, openPglite, openPostgres } from "./db.ts";
import { grantsSql, readSchemaFacts, tableGrants } from "./grants.ts";
import { loadMigrations, migrate, migrateOnStart, migrationStatus } from "./migrate.ts";
import { createThrowawayDatabase } from "./throwaway.ts";

const newModel = (name: string) => ({
  name,
  owner: "team",
  description: "",
  useCases: [],
  riskTier: "low" as const,
  tags: [],
});

/** A migration the code knows of and the database has not seen. */
const FUTURE = [
  ...loadMigrations(),
  { name: "29991231000000_future", sql: "CREATE TABLE future_t (id TEXT)" },
];

async function cli(argv: string[], env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { io: { out: (s) => out.push(s), err: (s) => err.push(s) }, env });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("audit hardening triggers (embedded store: every role is the superuser, so the triggers are the guard)", () => {
  let db: Db;
  before(async () => {
    db = await openPglite(undefined, { fromDump: await migratedPgliteDump() });
    // Nothing is pending on a copy of the migrated template; this only proves it.
    await migrate(db);
    const services = createServices({ db, clock: manualClock(new Date("2026-03-01T09:00:00Z")) });
    for (const n of ["a", "b", "c"]) await services.registry.createModel(ctx(), newModel(n));
  });
  after(() => db.close());

  test("TRUNCATE is refused on the audit log, its chain head and outbox, and every append-only table, CASCADE or not", async () => {
    const facts = await readSchemaFacts(db);
    const appendOnly = facts.tables.filter((t) => t.triggerFunctions.includes("modelgov_no_update"));
    assert.ok(appendOnly.length >= 12, `only ${appendOnly.length} append-only tables found`);
    const guarded = [
      ...appendOnly.map((t) => t.name),
      "audit_chain_head",
      "event_outbox",
      "models",
      "model_versions",
    ];
    for (const table of guarded) {
      await assert.rejects(db.query(`TRUNCATE ${table} CASCADE`), /cannot be truncated/, table);
      // Without CASCADE a referenced table may be refused by its foreign keys first.
      await assert.rejects(
        db.query(`TRUNCATE ${table}`),
        /cannot be truncated|referenced in a foreign key/,
        table,
      );
    }
    assert.equal((await db.query("SELECT 1 FROM audit_events")).length, 3, "the events are all still there");
  });

  test("the chain head moves only forward over linked events: back, sideways, to a forged hash or deleted, it is refused", async () => {
    const head = await readHead(db);
    assert.equal(head.position, 3);
    const update = (seq: number, hash: string, eventId: string | null) =>
      db.query("UPDATE audit_chain_head SET seq = $1, hash = $2, event_id = $3", [seq, hash, eventId]);
    const [second] = await db.query<{ id: string; hash: string }>(
      "SELECT id, hash FROM audit_events WHERE position = 2",
    );
    await assert.rejects(update(2, second!.hash, second!.id), /only moves forward/);
    await assert.rejects(update(3, "f".repeat(64), head.eventId), /only moves forward/);
    await assert.rejects(
      update(4, "f".repeat(64), "aud_none"),
      /may only move to the last of the events appended/,
    );
    // A row appended at the next position that does not link to the head cannot become the head.
    const refused = await db
      .transaction(async (tx) => {
        await tx.query(
          `INSERT INTO audit_events (id, at, actor, action, subject_type, subject_id, position, prev_hash, hash)
           VALUES ('aud_forged', now(), 'mallory', 'x', 'y', 'z', 4, $1, $2)`,
          ["0".repeat(64), "e".repeat(64)],
        );
        const moved = tx.query("UPDATE audit_chain_head SET seq = 4, hash = $1, event_id = 'aud_forged'", [
          "e".repeat(64),
        ]);
        // Thrown either way, so the forged row is rolled back.
        throw {
          outcome: await moved.then(
            () => "moved",
            (e: Error) => e.message,
          ),
        };
      })
      .catch((x: { outcome: string }) => x.outcome);
    assert.match(refused, /may only move to the last of the events appended/);
    await assert.rejects(db.query("DELETE FROM audit_chain_head"), /cannot be deleted/);
    // A no-op write is harmless and allowed; honest appends keep working.
    await update(head.position, head.hash, head.eventId);
    const services = createServices({ db, clock: manualClock(new Date("2026-03-01T10:00:00Z")) });
    await services.registry.createModel(ctx(), newModel("d"));
    assert.equal((await readHead(db)).position, 4);
    assert.equal((await services.audit.verify()).ok, true);
  });

  test("grants derive from the schema: append-only tables get SELECT and INSERT, the head SELECT and UPDATE, no table TRUNCATE", async () => {
    const facts = await readSchemaFacts(db);
    const grants = new Map(tableGrants(facts.tables).map((g) => [g.table, g.privileges.join(",")]));
    assert.equal(grants.size, facts.tables.length);
    assert.equal(grants.get("audit_events"), "SELECT,INSERT");
    assert.equal(grants.get("evidence"), "SELECT,INSERT");
    assert.equal(grants.get("request_log"), "SELECT,INSERT");
    assert.equal(grants.get("audit_chain_head"), "SELECT,UPDATE");
    assert.equal(grants.get("event_outbox"), "SELECT,INSERT,UPDATE");
    assert.equal(grants.get("models"), "SELECT,INSERT,UPDATE");
    assert.equal(grants.get("schema_migrations"), "SELECT");
    assert.equal(grants.get("rollouts"), "SELECT,INSERT,UPDATE,DELETE");
    const sql = grantsSql("modelgov_app", { ...facts, migrationsOwner: "modelgov_owner" });
    assert.match(sql, /^GRANT SELECT, INSERT ON "public"\."audit_events" TO modelgov_app; -- append-only$/m);
    assert.match(sql, /^REVOKE ALL ON ALL TABLES IN SCHEMA "public" FROM modelgov_app;$/m);
    assert.match(sql, /^ALTER DEFAULT PRIVILEGES FOR ROLE "modelgov_owner" IN SCHEMA "public" GRANT/m);
    assert.doesNotMatch(sql, /^GRANT (ALL|[^\n]*(TRUNCATE|TRIGGER|REFERENCES))/m);
    assert.throws(() => grantsSql("app; DROP TABLE x", facts), /not a plain role name/);
  });

  test("the embedded store migrates itself at start; a pending migration is applied, none is a no-op", async () => {
    assert.deepEqual((await migrationStatus(db)).pending, []);
    assert.deepEqual((await migrateOnStart(db)).applied, []);
    const s = await migrationStatus(db, FUTURE);
    assert.deepEqual([s.pending, s.canMigrate], [["29991231000000_future"], true]);
  });

  test("db grants needs a PostgreSQL server; a bad role name is a usage error", async () => {
    const r = await cli(["db", "grants", "--role", "modelgov_app"], {});
    assert.equal(r.code, 1);
    assert.match(r.err, /need a PostgreSQL server: set MODELGOV_MIGRATE_DATABASE_URL/);
    assert.equal((await cli(["db", "grants", "--role", "App-Role"], {})).code, 2);
  });
});

const PG = testDatabaseUrl();

describe("least-privilege role on PostgreSQL", {
  skip: POSTGRES_SKIP && `${POSTGRES_SKIP} (roles need a real server)`,
}, () => {
  const suffix = randomBytes(4).toString("hex");
  const ownerRole = `modelgov_test_owner_${suffix}`;
  const appRole = `modelgov_test_app_${suffix}`;
  const dir = mkdtempSync(path.join(tmpdir(), "modelgov-grants-"));
  let tmp: Awaited<ReturnType<typeof createThrowawayDatabase>>;
  let admin: Db;
  let owner: Db;
  let app: Db;
  let ownerUrl: string;
  let appUrl: string;
  const as = (role: string) => {
    const u = new URL(tmp.url);
    u.username = role;
    u.password = "";
    return u.toString();
  };

  before(async () => {
    admin = openPostgres(PG!, { max: 1 });
    tmp = await createThrowawayDatabase(PG!, "modelgov_test");
    // An owner that is not a superuser: it owns the database (so the public schema), may create roles.
    await admin.exec(
      `CREATE ROLE ${ownerRole} LOGIN CREATEROLE; ALTER DATABASE ${tmp.name} OWNER TO ${ownerRole}`,
    );
    ownerUrl = as(ownerRole);
    appUrl = as(appRole);
    owner = openPostgres(ownerUrl, { max: 2 });
    assert.ok((await migrate(owner)).length > 0);
  });
  after(async () => {
    await app?.close();
    await owner?.close();
    try {
      await tmp.drop();
    } finally {
      // Roles are cluster-wide; their grants and default privileges went with the database.
      await admin.exec(`DROP ROLE IF EXISTS ${appRole}; DROP ROLE IF EXISTS ${ownerRole}`);
      await admin.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("db grants prints the script, refuses the owner and a superuser as the app role, and --apply creates the role", async () => {
    const env = { MODELGOV_MIGRATE_DATABASE_URL: ownerUrl };
    const printed = await cli(["db", "grants", "--role", appRole], env);
    assert.equal(printed.code, 0, printed.err);
    assert.match(
      printed.out,
      new RegExp(`^GRANT SELECT, INSERT ON "public"\\."audit_events" TO ${appRole};`, "m"),
    );
    assert.match(printed.out, new RegExp(`FOR ROLE "${ownerRole}"`));
    const self = await cli(["db", "grants", "--role", ownerRole, "--apply"], env);
    assert.equal(self.code, 1);
    assert.match(self.err, /the role that runs migrations/);
    const sup = await cli(["db", "grants", "--role", "postgres"], env);
    assert.equal(sup.code, 1);
    assert.match(sup.err, /superuser/);

    const applied = await cli(["db", "grants", "--role", appRole, "--apply"], env);
    assert.equal(applied.code, 0, applied.err);
    assert.match(applied.out, /owns none/);
    // Idempotent: run again after every migrate.
    assert.equal((await cli(["db", "grants", "--role", appRole, "--apply"], env)).code, 0);
    app = openPostgres(appUrl, { max: 3 });
  });

  test("the server runs as the app role (demo seeded: registry, cards, approvals, evaluations, rollouts), and the log verifies", async () => {
    const { startServer } = await import("../main.ts");
    const config = loadConfig(
      { databaseUrl: appUrl, port: 0, dataDir: dir, demo: true, logLevel: "silent" },
      {},
    );
    const server = await startServer(config);
    try {
      const token = readFileSync(path.join(dir, "admin-token"), "utf8").trim();
      const res = await fetch(`${server.url}/api/v1/audit/verify`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { ok: boolean; checked: number };
      assert.equal(body.ok, true);
      assert.ok(body.checked > 10, `${body.checked} events`);
      const models = await fetch(`${server.url}/api/v1/models`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(models.status, 200);
    } finally {
      await server.close();
    }
  });

  test("as the app role: UPDATE, DELETE, TRUNCATE and DISABLE TRIGGER on the audit tables are refused, and so is rewriting the head", async () => {
    const services = createServices({ db: app, clock: manualClock(new Date("2026-03-01T09:00:00Z")) });
    const start = await readHead(app);
    await services.registry.createModel(ctx(), newModel("chat"));
    await services.registry.createModel(ctx(), newModel("summarizer"));
    const head = await readHead(app);
    assert.equal(head.position, start.position + 2, "appends move the head");
    const denied = /permission denied/;
    await assert.rejects(app.query("UPDATE audit_events SET actor = 'mallory'"), denied);
    await assert.rejects(app.query("DELETE FROM audit_events"), denied);
    await assert.rejects(app.query("TRUNCATE audit_events CASCADE"), denied);
    await assert.rejects(app.query("TRUNCATE event_outbox CASCADE"), denied);
    await assert.rejects(app.query("DELETE FROM event_outbox"), denied);
    await assert.rejects(app.query("ALTER TABLE audit_events DISABLE TRIGGER ALL"), /must be owner/);
    await assert.rejects(app.query("ALTER TABLE audit_chain_head DISABLE TRIGGER ALL"), /must be owner/);
    await assert.rejects(app.query("ALTER TABLE audit_events OWNER TO CURRENT_USER"), /must be owner/);
    await assert.rejects(app.query("DROP TRIGGER audit_events_append_only ON audit_events"), /must be owner/);
    await assert.rejects(app.query("CREATE TABLE audit_events_copy (id TEXT)"), denied);
    await assert.rejects(app.query("UPDATE audit_chain_head SET seq = 1"), /only moves forward/);
    await assert.rejects(
      app.query("UPDATE audit_chain_head SET hash = $1", ["f".repeat(64)]),
      /only moves forward/,
    );
    await assert.rejects(app.query("DELETE FROM audit_chain_head"), denied);
    await assert.rejects(app.query("INSERT INTO audit_chain_head VALUES ('other', 0, '', NULL)"), denied);
    // Append-only tables elsewhere too.
    await assert.rejects(app.query("UPDATE evidence SET kind = kind"), denied);
    await assert.rejects(app.query("DELETE FROM request_log"), denied);
    await assert.rejects(app.query("DELETE FROM models"), denied);
    assert.deepEqual(await readHead(app), head);
    assert.equal((await services.audit.verify()).ok, true);
  });

  test("a pending migration stops the app role's server with what to run; the owner applies it, and grants again cover the new table", async () => {
    const status = await migrationStatus(app, FUTURE);
    assert.deepEqual([status.role, status.owner, status.canMigrate], [appRole, ownerRole, false]);
    await assert.rejects(
      migrateOnStart(app, FUTURE),
      (err: Error) =>
        /1 database migration\(s\) pending \(29991231000000_future\)/.test(err.message) &&
        /run `modelgov migrate` with MODELGOV_MIGRATE_DATABASE_URL/.test(err.message) &&
        err.message.includes(`--role ${appRole} --apply`),
    );
    const st = await cli(["db", "status"], { DATABASE_URL: appUrl });
    assert.equal(st.code, 0, st.err);
    assert.match(
      st.out,
      new RegExp(`^role: ${appRole} \\(may not migrate\\)\nmigrations owner: ${ownerRole}\npending: none$`),
    );
    assert.deepEqual((await migrateOnStart(owner, FUTURE)).applied, ["29991231000000_future"]);
    // Default privileges: the new table is usable before the grants are run again.
    await app.query("INSERT INTO future_t VALUES ('x')");
    assert.deepEqual((await migrationStatus(app, FUTURE)).pending, []);
  });
});
