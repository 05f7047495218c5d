import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { loadConfig, productionProblems } from "./config.ts";
import { createThrowawayDatabase } from "./store/throwaway.ts";
import { POSTGRES_SKIP, testDatabaseUrl } from "./test-support/stores.ts";

const PEM = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const PG = "postgres://modelgov_app:secret@db.example:5432/modelgov";
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), "modelgov-prod-"));
  dirs.push(d);
  return d;
};

describe("production mode (MODELGOV_MODE=production)", () => {
  test("the demo is never seeded: not by default, not when the serve command passes demo: true", () => {
    const env = { MODELGOV_MODE: "production", DATABASE_URL: PG, MODELGOV_AUDIT_SIGNING_KEY: PEM };
    assert.equal(loadConfig({}, env).demo, false);
    // `serve` always passes the --no-demo option's value (true unless given).
    assert.equal(loadConfig({ demo: true }, env).demo, false);
    assert.equal(loadConfig({ demo: true }, env).mode, "production");
    // Development keeps today's behaviour: the demo unless asked not to.
    assert.equal(loadConfig({ demo: true }, { DATABASE_URL: PG }).demo, true);
    assert.equal(loadConfig({}, { MODELGOV_NO_DEMO: "1" }).demo, false);
    assert.equal(loadConfig({}, {}).mode, "development");
  });

  test("an unknown mode is refused, naming the variable", () => {
    assert.throws(() => loadConfig({}, { MODELGOV_MODE: "prod" }), /mode: .*\(MODELGOV_MODE\)/);
  });

  test("production asks for DATABASE_URL and a shared signing key; development asks for neither", () => {
    const bare = productionProblems(loadConfig({}, { MODELGOV_MODE: "production" }));
    assert.equal(bare.length, 2);
    assert.match(bare[0]!, /DATABASE_URL/);
    assert.match(bare[1]!, /MODELGOV_AUDIT_SIGNING_KEY_FILE/);
    assert.deepEqual(
      productionProblems(
        loadConfig(
          {},
          {
            MODELGOV_MODE: "production",
            DATABASE_URL: PG,
            MODELGOV_AUDIT_SIGNING_KEY_FILE: "/run/secrets/audit/key.pem",
          },
        ),
      ),
      [],
    );
    assert.deepEqual(
      productionProblems(
        loadConfig({}, { MODELGOV_MODE: "production", DATABASE_URL: PG, MODELGOV_AUDIT_SIGNING_KEY: PEM }),
      ),
      [],
    );
    assert.deepEqual(productionProblems(loadConfig({}, {})), []);
  });

  test("the server refuses to start in production on the embedded store, before it writes anything", async () => {
    const { startServer } = await import("./main.ts");
    const dataDir = path.join(tempDir(), "data");
    const config = loadConfig(
      { dataDir, port: 0, logLevel: "silent" },
      { MODELGOV_MODE: "production", MODELGOV_AUDIT_SIGNING_KEY: PEM },
    );
    await assert.rejects(startServer(config), /MODELGOV_MODE=production:\n.*DATABASE_URL/);
    assert.equal(existsSync(dataDir), false, "no data folder, no embedded database, no generated key");
  });

  test("on PostgreSQL an empty store stays empty: no demo model, only the admin token", {
    skip: POSTGRES_SKIP,
  }, async () => {
    const { startServer } = await import("./main.ts");
    const database = await createThrowawayDatabase(testDatabaseUrl()!, "modelgov_prod");
    const admin = "prod-bootstrap-token-0123456789";
    try {
      const config = loadConfig(
        { port: 0, dataDir: tempDir(), logLevel: "silent", demo: true },
        {
          MODELGOV_MODE: "production",
          DATABASE_URL: database.url,
          MODELGOV_AUDIT_SIGNING_KEY: PEM,
          MODELGOV_ADMIN_TOKEN: admin,
        },
      );
      const server = await startServer(config);
      try {
        const res = await fetch(`${server.url}/api/v1/models`, {
          headers: { authorization: `Bearer ${admin}` },
        });
        assert.equal(res.status, 200);
        const body = (await res.json()) as { items: unknown[] };
        assert.deepEqual(body.items, []);
        assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
      } finally {
        await server.close();
      }
    } finally {
      await database.drop();
    }
  });
});
