import { randomBytes } from "node:crypto";
import { openPostgres } from "./db.ts";

/**
 * A fresh database on a PostgreSQL server, for one test suite or benchmark run: its URL, and
 * `drop()` to remove it WITH (FORCE) afterwards (connections still open are cut). With
 * `template`, a copy of that database (which nobody may be connected to).
 */
export async function createThrowawayDatabase(serverUrl: string, prefix = "modelgov_tmp", template?: string) {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = openPostgres(serverUrl, { max: 1 });
  await admin.exec(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ""}`);
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return {
    name,
    url: u.toString(),
    async drop() {
      try {
        await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.close();
      }
    },
  };
}
