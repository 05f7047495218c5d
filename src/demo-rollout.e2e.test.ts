import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runCli } from "./cli/main.ts";
import { createClient } from "./client/index.ts";
import { loadConfig } from "./config.ts";
import { startServer } from "./main.ts";

describe("modelgov demo rollout, end to end (real server, gateway, controller, simulator)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "modelgov-demo-rollout-"));
  const ADMIN = `admin-${randomBytes(12).toString("hex")}`;
  let server: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    server = await startServer(
      loadConfig(
        { port: 0, dataDir: dir, demo: true },
        { MODELGOV_ADMIN_TOKEN: ADMIN, MODELGOV_LOG_LEVEL: "silent" },
      ),
    );
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the candidate worse for one group rolls back by itself, the healthy one promotes, in under a minute", async () => {
    const out: string[] = [];
    const started = Date.now();
    const code = await runCli(["demo", "rollout"], {
      io: { out: (s) => out.push(s), err: (s) => out.push(s) },
      env: { MODELGOV_URL: server.url, MODELGOV_TOKEN: ADMIN },
    });
    const took = Date.now() - started;
    const text = out.join("\n");
    assert.equal(code, 0, text);
    assert.ok(took < 60_000, `took ${took} ms`);
    assert.match(text, /support-assistant@1\.3\.0 \(degraded for the 65\+ age band\)[\s\S]*■ rolled_back/);
    assert.match(text, /group success gap: age_band: gap [\d.]+ points between .* and 65\+/);
    assert.match(text, /support-assistant@1\.4\.0 \(healthy\)[\s\S]*■ promoted/);

    const admin = createClient({ baseUrl: server.url, token: ADMIN });
    const state = await admin.models.state("support-assistant", new Date().toISOString());
    assert.equal(state.production, "1.4.0");
    const route = await admin.routes.get("support-assistant");
    assert.equal(route.split, null, "no traffic left on a split");
    const audit = await admin.audit.events({ action: "rollout.*", limit: 1000 });
    const actions = audit.items.map((e) => e.action);
    assert.ok(
      actions.includes("rollout.rollback") && actions.includes("rollout.promote"),
      actions.join(", "),
    );
    assert.equal((await admin.audit.verify()).ok, true);
  });
});
