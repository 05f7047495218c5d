import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { createLogger } from "../lib/logger.ts";
import { createHttpApp } from "../services.ts";
import { openHarness, storeTargets } from "../test-support/stores.ts";

describe("the console is served at /", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "modelgov-console-"));
  mkdirSync(path.join(dir, "assets"));
  writeFileSync(path.join(dir, "index.html"), "<!doctype html><title>console</title><div id=root></div>");
  writeFileSync(path.join(dir, "assets", "app-1234.js"), "console.log(1)");
  const h = await openHarness(storeTargets()[0]!);
  const app = createHttpApp(h.services, createLogger("silent"), { consoleDir: dir });
  after(async () => {
    await h.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test("page paths get index.html (the app routes them), assets are cached, the API is untouched", async () => {
    for (const p of ["/", "/inbox", "/models/support-assistant/versions/1.0.0"]) {
      const res = await app.request(p);
      assert.equal(res.status, 200, p);
      assert.match(await res.text(), /<title>console<\/title>/);
      assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    }
    const asset = await app.request("/assets/app-1234.js");
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get("cache-control") ?? "", /immutable/);
    assert.equal((await app.request("/assets/missing.js")).status, 404);
    const api = await app.request("/api/v1/whoami");
    assert.equal(api.status, 401);
    assert.equal(api.headers.get("content-type"), "application/problem+json");
    assert.equal((await app.request("/healthz")).status, 200);
  });

  test("without a build, / explains how to build it", async () => {
    const bare = createHttpApp(h.services, createLogger("silent"), { consoleDir: null });
    const res = await bare.request("/");
    assert.equal(res.status, 200);
    assert.match(await res.text(), /npm run build:console/);
  });
});
