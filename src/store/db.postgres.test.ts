import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { POSTGRES_SKIP, testDatabaseUrl } from "../test-support/stores.ts";
import { startTcpCut } from "../test-support/tcp-cut.ts";
import { openPostgres } from "./db.ts";
import { createThrowawayDatabase } from "./throwaway.ts";

const url = testDatabaseUrl();

test("PostgreSQL: a connection reset in the middle of a transaction fails that transaction, not the process", {
  skip: POSTGRES_SKIP,
}, async () => {
  const tmp = await createThrowawayDatabase(url!, "modelgov_test");
  const target = new URL(tmp.url);
  const proxy = await startTcpCut({ host: target.hostname, port: Number(target.port || 5432) });
  const viaProxy = new URL(tmp.url);
  viaProxy.port = String(proxy.port);
  const db = openPostgres(viaProxy.toString(), { max: 2 });
  try {
    let inside!: () => void;
    const reached = new Promise<void>((r) => {
      inside = r;
    });
    const tx = db.transaction(async (t) => {
      await t.query("SELECT 1");
      inside();
      await sleep(300);
      await t.query("SELECT 2");
    });
    await reached;
    // The client is checked out and idle between two queries: before the fix, its 'error'
    // event had no listener and ended the process (this test run with it).
    proxy.cut("refuse");
    await assert.rejects(tx);
    proxy.restore();
    // The broken client was thrown away: the next transaction gets a fresh connection.
    assert.deepEqual(await db.transaction((t) => t.query<{ n: number }>("SELECT 1 AS n")), [{ n: 1 }]);
  } finally {
    await db.close();
    await proxy.close();
    await tmp.drop();
  }
});
