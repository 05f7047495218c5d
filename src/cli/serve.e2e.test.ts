import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { openPostgres } from "../store/db.ts";
import { hermeticEnv } from "../test-support/serve-child.ts";
import { migratedDataDir } from "../test-support/store-templates.ts";
import { POSTGRES_SKIP, readJson, testDatabaseUrl } from "../test-support/stores.ts";

const BIN = new URL("../../bin/modelgov.js", import.meta.url).pathname;
const children: ChildProcess[] = [];

/** Starts `modelgov serve` on a free port and resolves with its URL once it logs that it listens. */
function serve(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ url: string; child: ChildProcess; logs: string[] }> {
  // A free port: by the flag, unless the test gives it through MODELGOV_PORT.
  const port = env.MODELGOV_PORT === undefined ? ["--port", "0"] : [];
  const child = spawn(process.execPath, [BIN, "serve", ...port, ...args], {
    // Only what the test sets: an MODELGOV_ADMIN_TOKEN (or any setting) in the caller's shell is not seen.
    env: hermeticEnv({ MODELGOV_LOG_LEVEL: "info", ...env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const logs: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${logs.join("\n")}`)), 60_000);
    let buf = "";
    child.stdout!.on("data", (d) => {
      buf += d;
      let i = buf.indexOf("\n");
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        logs.push(line);
        try {
          const entry = JSON.parse(line);
          if (entry.msg === "modelgov listening") {
            clearTimeout(timer);
            resolve({ url: entry.url, child, logs });
          }
        } catch {}
        i = buf.indexOf("\n");
      }
    });
    child.stderr!.on("data", (d) => logs.push(String(d)));
    child.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${logs.join("\n")}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.removeAllListeners("exit");
    child.on("exit", (code) => resolve(code));
    child.kill("SIGTERM");
  });
}

after(() => {
  for (const c of children) if (c.exitCode === null && c.pid) process.kill(c.pid, "SIGKILL");
});

describe("modelgov serve (the real binary)", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "modelgov-e2e-"));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test("first start on the embedded store seeds the demo; a restart keeps the data and does not re-seed", async () => {
    const first = await serve(["--data-dir", dataDir]);
    assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    // The first admin token is written to the data folder, readable only by its owner, and never logged.
    const tokenFile = path.join(dataDir, "admin-token");
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    const token = readFileSync(tokenFile, "utf8").trim();
    assert.ok(first.logs.some((l) => l.includes(tokenFile)));
    assert.ok(!first.logs.some((l) => l.includes(token)));
    const fetch = (url: string) => globalThis.fetch(url, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await globalThis.fetch(`${first.url}/api/v1/models`)).status, 401);
    const models = await readJson(await fetch(`${first.url}/api/v1/models`));
    assert.deepEqual(
      models.items.map((m: { name: string }) => m.name),
      ["support-assistant", "support-embeddings"],
    );
    assert.equal(models.items[0].versionCount, 4);
    const card = await readJson(
      await fetch(`${first.url}/api/v1/models/support-assistant/versions/1.2.0/card`),
    );
    assert.equal(card.validation.complete, true);
    assert.equal((await readJson(await fetch(`${first.url}/readyz`))).store, "pglite");
    const requestLog = first.logs.map((l) => JSON.parse(l)).find((e) => e.msg === "request");
    assert.match(requestLog.requestId, /^req_/);
    assert.equal(await stop(first.child), 0);

    // The listen address from the environment: serve's flags must not shadow it with their defaults.
    const second = await serve(["--data-dir", dataDir], { MODELGOV_PORT: "0", MODELGOV_HOST: "127.0.0.1" });
    assert.doesNotMatch(second.url, /:7070$/, "MODELGOV_PORT=0 asks for a free port");
    assert.equal(readFileSync(tokenFile, "utf8").trim(), token, "a restart must not mint a new admin token");
    const again = await readJson(await fetch(`${second.url}/api/v1/models/support-assistant`));
    assert.equal(again.versionCount, 4);
    assert.deepEqual(again.aliases, { canary: "1.2.0", production: "1.1.0" });
    assert.ok(!second.logs.some((l) => /seeded the demo/.test(l)));
    await stop(second.child);

    const migrate = spawnSync(process.execPath, [BIN, "migrate", "--data-dir", dataDir], {
      encoding: "utf8",
      env: hermeticEnv({}),
    });
    assert.equal(migrate.status, 0, migrate.stderr);
    assert.match(migrate.stdout, /up to date/);
  });

  test("--no-demo starts an empty workspace", async () => {
    // Not the first start under test here: a migrated store spares it the initdb.
    const dir = await migratedDataDir(mkdtempSync(path.join(tmpdir(), "modelgov-e2e-empty-")));
    try {
      const s = await serve(["--data-dir", dir, "--no-demo"], {
        MODELGOV_ADMIN_TOKEN: "dev-admin-token-0123456789",
      });
      const res = await fetch(`${s.url}/api/v1/models`, {
        headers: { authorization: "Bearer dev-admin-token-0123456789" },
      });
      assert.deepEqual((await readJson(res)).items, []);
      await stop(s.child);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("usage errors exit with 2", () => {
    const r = spawnSync(process.execPath, [BIN, "serve", "--bogus"], {
      encoding: "utf8",
      env: hermeticEnv({}),
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown option/);
  });

  const pgUrl = testDatabaseUrl();
  // Like every store-backed suite, the PostgreSQL case runs when CI provides the server.
  test("with DATABASE_URL it runs on PostgreSQL: migrate, then serve with the demo", {
    skip: POSTGRES_SKIP,
  }, async () => {
    const name = `modelgov_e2e_${randomBytes(5).toString("hex")}`;
    const admin = openPostgres(pgUrl!, { max: 1 });
    await admin.exec(`CREATE DATABASE ${name}`);
    const u = new URL(pgUrl!);
    u.pathname = `/${name}`;
    try {
      const m = spawnSync(process.execPath, [BIN, "migrate"], {
        encoding: "utf8",
        env: hermeticEnv({ DATABASE_URL: u.toString() }),
      });
      assert.equal(m.status, 0, m.stderr);
      assert.match(m.stdout, /applied \d+ migration/);
      const s = await serve([], {
        DATABASE_URL: u.toString(),
        MODELGOV_ADMIN_TOKEN: "dev-admin-token-0123456789",
      });
      assert.equal((await readJson(await fetch(`${s.url}/readyz`))).store, "postgres");
      const model = await readJson(
        await fetch(`${s.url}/api/v1/models/support-assistant`, {
          headers: { authorization: "Bearer dev-admin-token-0123456789" },
        }),
      );
      assert.equal(model.versionCount, 4);
      await stop(s.child);
    } finally {
      await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.close();
    }
  });
});
