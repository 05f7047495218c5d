import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Db } from "../store/db.ts";
import { POSTGRES_SKIP, storeTargets } from "../test-support/stores.ts";
import { createLease, LeaseLost } from "./lease.ts";

// A second session has to move the lease while a fenced transaction is open: PostgreSQL only
// (the embedded store is one session, whose top-level queries wait for the open transaction).
const target = storeTargets().find((t) => t.name === "postgres");

describe("lease fencing on postgres", { skip: POSTGRES_SKIP }, () => {
  let db: Db;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ db, cleanup } = await target!.openMigrated());
    await db.exec("CREATE TABLE fenced_work (n int)");
  });
  after(() => cleanup?.());

  test("a holder that lost the lease mid-transaction has its work refused at COMMIT, and steps down", async () => {
    const logged: string[] = [];
    const logger = {
      info: (_o: unknown, msg: string) => logged.push(msg),
      warn: (_o: unknown, msg: string) => logged.push(msg),
    } as unknown as NonNullable<Parameters<typeof createLease>[0]["logger"]>;
    const a = createLease({ db, name: "fence-test", holder: "replica-a", ttlMs: 60_000, logger });
    const b = createLease({ db, name: "fence-test", holder: "replica-b", ttlMs: 60_000 });
    const fence = await a.fence();
    assert.ok(fence, "a takes the free lease");
    assert.deepEqual(logged, ["leader lease taken"]);
    const work = db.transaction(async (tx) => {
      assert.equal(await fence(tx), true, "held when the work starts");
      await tx.query("INSERT INTO fenced_work VALUES (1)");
      // Meanwhile (a paused past its TTL) the lease expires and b takes it.
      await db.query(
        "UPDATE controller_leases SET expires_at = now() - interval '1 second' WHERE name = $1",
        ["fence-test"],
      );
      assert.equal((await b.acquire()).held, true);
    });
    await assert.rejects(work, (err) => err instanceof LeaseLost && err.epoch === 1);
    assert.deepEqual(await db.query("SELECT * FROM fenced_work"), [], "a's work rolled back");
    assert.equal((await a.acquire()).held, false);
    assert.deepEqual(logged, ["leader lease taken", "leader lease lost; stepping down"]);
    // b's work at its epoch commits.
    const bFence = await b.fence();
    await db.transaction(async (tx) => {
      assert.equal(await bFence!(tx), true);
      await tx.query("INSERT INTO fenced_work VALUES (2)");
    });
    assert.deepEqual(await db.query("SELECT n FROM fenced_work"), [{ n: 2 }]);
  });

  test("the fence reads the clock at the moment it checks, not when the transaction began", async () => {
    const a = createLease({ db, name: "fence-clock", holder: "replica-a", ttlMs: 300 });
    const fence = await a.fence();
    const work = db.transaction(async (tx) => {
      assert.equal(await fence!(tx), true);
      // now() stays at the transaction's start; the lease runs out while it is open.
      await tx.query("SELECT pg_sleep(0.5)");
    });
    await assert.rejects(work, LeaseLost);
  });
});
