import { randomBytes } from "node:crypto";
import { type Clock, manualClock } from "../lib/clock.ts";
import { createLogger } from "../lib/logger.ts";
import { createHttpApp, createServices, type Services } from "../services.ts";
import { type Db, openPglite, openPostgres } from "../store/db.ts";
import { migrate } from "../store/migrate.ts";
import { createThrowawayDatabase } from "../store/throwaway.ts";
import { emptyPgliteDump, migratedPgliteDump, migratedPostgresTemplate } from "./store-templates.ts";
import { testDatabaseUrl } from "./test-env.ts";

/**
 * The stores every store-backed suite runs against: embedded PGlite always, and a
 * real PostgreSQL server when MODELGOV_TEST_DATABASE_URL is set (CI sets it). Each
 * suite gets a fresh database, dropped afterwards.
 */
export interface StoreTarget {
  name: "pglite" | "postgres";
  /** Set when this store is not available to the run: why, and how to make it so (a suite's `skip`). */
  skip?: string;
  /** An empty database. */
  open(): Promise<{ db: Db; cleanup(): Promise<void> }>;
  /** A database with every migration applied: a copy of one migrated once (store-templates.ts). */
  openMigrated(): Promise<{ db: Db; cleanup(): Promise<void> }>;
}

/** MODELGOV_TEST_DATABASE_URL (test-env.ts): the PostgreSQL server the store-backed suites also run against. */
export { testDatabaseUrl };

/** Why a PostgreSQL-only test is skipped (undefined when it runs): a skip says so, with the way to run it. */
export const POSTGRES_SKIP = testDatabaseUrl()
  ? undefined
  : "no PostgreSQL: set MODELGOV_TEST_DATABASE_URL=postgres://user@host:5432/db (a server where that user may create databases) to run it";

/**
 * Every store, those this run has not got included with the reason in `skip`, so that a suite
 * shows as skipped rather than being absent: `describe(\`… on ${t.name}\`, { skip: t.skip }, …)`.
 */
export function allStoreTargets(): StoreTarget[] {
  const targets = storeTargets();
  if (!targets.some((t) => t.name === "postgres")) {
    const unavailable = async (): Promise<never> => {
      throw new Error(POSTGRES_SKIP);
    };
    targets.push({ name: "postgres", skip: POSTGRES_SKIP, open: unavailable, openMigrated: unavailable });
  }
  return targets;
}

/** The stores this run has (see allStoreTargets for those it has not). */
export function storeTargets(): StoreTarget[] {
  const targets: StoreTarget[] = [
    {
      name: "pglite",
      async open() {
        // A copy of a database just after its initdb: the initdb itself is seconds of WebAssembly.
        const db = await openPglite(undefined, { fromDump: await emptyPgliteDump() });
        return { db, cleanup: () => db.close() };
      },
      async openMigrated() {
        const db = await openPglite(undefined, { fromDump: await migratedPgliteDump() });
        return { db, cleanup: () => db.close() };
      },
    },
  ];
  const url = testDatabaseUrl();
  if (url) {
    const open = async (template?: string) => {
      const tmp = await createThrowawayDatabase(url, "modelgov_test", template);
      const db = openPostgres(tmp.url, { max: 5 });
      return {
        db,
        async cleanup() {
          await db.close();
          await tmp.drop();
        },
      };
    };
    targets.push({
      name: "postgres",
      open: () => open(),
      openMigrated: async () => open(await migratedPostgresTemplate(url)),
    });
  }
  return targets;
}

export interface Harness {
  db: Db;
  clock: Clock & { advance(ms: number): Date };
  services: Services;
  app: ReturnType<typeof createHttpApp>;
  /** An admin token, and a fetch that serves requests in-process with it (for the typed client and the CLI). */
  adminToken: string;
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  /** `app.request` with the admin token (or the token given). */
  request: (path: string, init?: RequestInit, token?: string) => Promise<Response>;
  /** Creates a token with these roles and returns its secret. */
  tokenFor: (name: string, roles: string[]) => Promise<string>;
  cleanup(): Promise<void>;
}

export async function openHarness(
  target: StoreTarget,
  opts: { openProductionGate?: boolean } = {},
): Promise<Harness> {
  const { db, cleanup } = await target.openMigrated();
  // Nothing is pending on a copy of the migrated template; this only proves it.
  await migrate(db);
  const clock = manualClock(new Date("2026-03-01T09:00:00Z"));
  const services = createServices({ db, clock, openProductionGate: opts.openProductionGate ?? false });
  const app = createHttpApp(services, createLogger("silent"));
  const adminToken = (await services.identity.create(ctx("admin"), { name: "admin", roles: ["admin"] }))
    .token;
  const request = async (path: string, init: RequestInit = {}, token = adminToken) => {
    const headers = new Headers(init.headers);
    if (!headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
    return app.request(path, { ...init, headers });
  };
  const fetch = (input: string, init?: RequestInit) => request(input, init);
  const tokenFor = async (name: string, roles: string[]) =>
    (await services.identity.create(ctx("admin"), { name, roles })).token;
  return { db, clock, services, app, adminToken, fetch, request, tokenFor, cleanup };
}

export const ctx = (actor = "alice", roles: string[] = ["admin"]) => ({
  actor,
  roles,
  requestId: `test-${randomBytes(4).toString("hex")}`,
});

export const SIM_PARAMS = { latencyMs: { p50: 100, p95: 300 }, errorRate: 0.01, tokens: { output: 50 } };

/** Response bodies in tests are checked field by field, so they are read loosely typed. */
// biome-ignore lint/suspicious/noExplicitAny: tests assert the shape field by field
export const readJson = async (res: Response): Promise<any> => res.json();
