import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { migratedPgliteDump } from "../test-support/store-templates.ts";
import { openPglite } from "./db.ts";

test("an embedded store opened from another's dump holds its data, and the two then part ways", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "modelgov-dump-"));
  const file = path.join(dir, "copy.tar");
  // Itself a copy (of the migrated template), which spares this test an initdb.
  const a = await openPglite(undefined, { fromDump: await migratedPgliteDump() });
  try {
    await a.exec("CREATE TABLE t (v TEXT PRIMARY KEY); INSERT INTO t VALUES ('before')");
    await a.dumpTo(file);
    await a.query("INSERT INTO t VALUES ('only-in-a')");
    const b = await openPglite(undefined, { fromDump: file });
    try {
      await b.query("INSERT INTO t VALUES ('only-in-b')");
      const rows = async (db: typeof a) =>
        (await db.query<{ v: string }>("SELECT v FROM t ORDER BY v")).map((r) => r.v);
      assert.deepEqual(await rows(b), ["before", "only-in-b"]);
      assert.deepEqual(await rows(a), ["before", "only-in-a"]);
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
