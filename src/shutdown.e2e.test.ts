import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { loadConfig } from "./config.ts";
import { startServer } from "./main.ts";
import { migratedDataDir } from "./test-support/store-templates.ts";

/** GET on a keep-alive agent: status and the connection header, or the error's code. */
function get(
  agent: http.Agent,
  url: string,
): Promise<{ status: number; connection: string | undefined } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
    });
    req.on("error", (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

test("shutdown under keep-alive load: readiness turns 503, busy connections close after their answer, and close() ends", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "modelgov-drain-"));
  const env = {
    MODELGOV_ADMIN_TOKEN: "drain-admin-token-0123456789",
    MODELGOV_LOG_LEVEL: "silent",
    MODELGOV_DRAIN_TIMEOUT_MS: "3000",
  };
  const server = await startServer(
    loadConfig({ port: 0, dataDir: await migratedDataDir(dir), demo: false }, env),
  );
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let closingAt = 0;
  const after: { status: number; connection: string | undefined }[] = [];
  let before = 0;
  let stop = false;
  // Four clients that never pause: before the fix they kept the server answering for as long as they ran.
  const clients = Array.from({ length: 4 }, async () => {
    while (!stop) {
      const r = await get(agent, `${server.url}/readyz`);
      if ("error" in r) return r.error;
      if (closingAt === 0) before += r.status === 200 ? 1 : 0;
      else after.push(r);
    }
    return "stopped";
  });
  try {
    while (before < 20) await new Promise((r) => setTimeout(r, 5));
    closingAt = Date.now();
    const closed = server.close().then(() => "closed" as const);
    const guard = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 8_000).unref());
    assert.equal(await Promise.race([closed, guard]), "closed", "close() ends while clients keep sending");
    // A request that arrives once draining began is told 503 (not ready) and its connection closes.
    for (const r of after) {
      assert.ok(r.status === 503 || r.status === 200, `status ${r.status}`);
      if (r.status === 503) assert.equal(r.connection, "close");
    }
    const ended = await Promise.race([
      Promise.all(clients),
      new Promise<"hung">((r) => setTimeout(() => r("hung"), 5_000).unref()),
    ]);
    assert.notEqual(ended, "hung", "the clients were refused, not kept waiting");
  } finally {
    stop = true;
    agent.destroy();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
