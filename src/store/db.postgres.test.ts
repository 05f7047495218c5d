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

test("PostgreSQL: LISTEN connects to listenUrl (the direct connection), queries to the pooled url; a NOTIFY committed through the pool arrives", {
  skip: POSTGRES_SKIP,
}, async () => {
  const tmp = await createThrowawayDatabase(url!, "modelgov_test");
  const tagged = (name: string) => {
    const u = new URL(tmp.url);
    u.searchParams.set("application_name", name);
    return u.toString();
  };
  const db = openPostgres(tagged("mg_pooled"), { max: 2, listenUrl: tagged("mg_direct") });
  try {
    const heard: string[] = [];
    const unlisten = await db.listen("mg_test_channel", (p) => heard.push(p));
    await db.transaction(async (tx) => {
      await tx.query("SELECT pg_notify('mg_test_channel', 'hello')");
    });
    const until = Date.now() + 5000;
    while (heard.length === 0 && Date.now() < until) await sleep(10);
    assert.deepEqual(heard, ["hello"]);
    const sessions = await db.query<{ application_name: string; query: string }>(
      "SELECT application_name, query FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'mg_%' AND pid <> pg_backend_pid()",
      [tmp.name],
    );
    assert.ok(
      sessions.some((s) => s.application_name === "mg_direct" && /^LISTEN /.test(s.query)),
      JSON.stringify(sessions),
    );
    assert.ok(!sessions.some((s) => s.application_name === "mg_pooled" && /LISTEN/.test(s.query)));
    await unlisten();
  } finally {
    await db.close();
    await tmp.drop();
  }
});
