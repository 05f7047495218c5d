import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { describe, test } from "node:test";
import { allStoreTargets } from "../test-support/stores.ts";
import { loadMigrations, migrate } from "./migrate.ts";

test("migrations are timestamp-prefixed SQL files, in order", () => {
  const files = readdirSync(new URL("./migrations/", import.meta.url)).filter((f) => f.endsWith(".sql"));
  const loaded = loadMigrations();
  assert.equal(loaded.length, files.length, "a migration file is misnamed and would be ignored");
  assert.deepEqual(
    loaded.map((m) => m.name),
    [...files].sort(),
  );
  for (const f of files) assert.match(f, /^\d{14}_[a-z0-9_]+\.sql$/);
});

for (const target of allStoreTargets()) {
  describe(`migrations on ${target.name}`, { skip: target.skip }, () => {
    test("apply once, are recorded, and a second run applies nothing; concurrent runs do not collide", async () => {
      const { db, cleanup } = await target.open();
      try {
        const [a, b] = await Promise.all([migrate(db), migrate(db)]);
        assert.deepEqual(
          [...a!, ...b!],
          loadMigrations().map((m) => m.name),
        );
        assert.deepEqual(await migrate(db), []);
        const rows = await db.query<{ name: string }>("SELECT name FROM schema_migrations ORDER BY name");
        assert.deepEqual(
          rows.map((r) => r.name),
          loadMigrations().map((m) => m.name),
        );
        // Append-only tables refuse rewrites.
        await db.query(
          "INSERT INTO audit_events (id, at, actor, action, subject_type, subject_id, position, prev_hash, hash) VALUES ('aud_1', now(), 'a', 'x', 'y', 'z', 1, '', '')",
        );
        await assert.rejects(db.query("UPDATE audit_events SET actor = 'mallory'"), /append-only/);
      } finally {
        await cleanup();
      }
    });
  });
}
