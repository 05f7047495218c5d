import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig } from "../config.ts";
import { startServer } from "../main.ts";
import { migratedDataDir } from "./store-templates.ts";

/**
 * A real server with the demo workspace on a fresh embedded store (a copy of the migrated
 * template: seeding the demo is the server's own doing), on a loopback port.
 */
export async function startDemoServer(name: string, env: Record<string, string> = {}) {
  const dir = await migratedDataDir(mkdtempSync(path.join(tmpdir(), `modelgov-${name}-`)));
  const admin = `admin-${randomBytes(12).toString("hex")}`;
  const server = await startServer(
    loadConfig(
      { port: 0, dataDir: dir, demo: true },
      { MODELGOV_ADMIN_TOKEN: admin, MODELGOV_LOG_LEVEL: "silent", ...env },
    ),
  );
  return {
    server,
    url: server.url,
    admin,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
