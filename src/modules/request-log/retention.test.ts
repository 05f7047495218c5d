import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Db } from "../../store/db.ts";
import { allStoreTargets } from "../../test-support/stores.ts";
import { insertFeedbackBatch } from "./feedback-log.ts";
import { featureHistograms, windowMetrics } from "./index.ts";
import { createPartitionCache } from "./partitions.ts";
import { insertRequestBatch, requestLogRow } from "./request-log.ts";
import { applyRetention, checkRetention } from "./retention.ts";

const DAY = 86_400_000;

const request = (id: string, at: Date) =>
  requestLogRow({
    id,
    at,
    tokenId: null,
    client: "c",
    model: "kept",
    versionId: "ver_a",
    version: "1.0.0",
    routeReason: "alias:production",
    endpoint: "chat.completions",
    stream: false,
    status: 200,
    errorClass: null,
    totalMs: 50,
    upstreamMs: null,
    tokensIn: 0,
    tokensOut: 0,
    costUsd: 0.01,
    fallbackPath: [{ versionId: "ver_a", outcome: "served" }] as never,
  });

test("a retention policy names the field it refuses", () => {
  assert.throws(() => checkRetention({ rawDays: 0, aggregateDays: 10, aheadDays: 1 }), /retention.rawDays/);
  assert.throws(
    () => checkRetention({ rawDays: 30, aggregateDays: 7, aheadDays: 1 }),
    /aggregateDays must be at least/,
  );
  assert.throws(
    () => checkRetention({ rawDays: 1, aggregateDays: 1, aheadDays: 1.5 }),
    /retention.aheadDays/,
  );
});

for (const target of allStoreTargets()) {
  describe(`request log retention on ${target.name}`, { skip: target.skip }, () => {
    let db: Db;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ db, cleanup } = await target.openMigrated());
    });
    after(() => cleanup?.());

    test("expired days are dropped whole, partitions are made ahead, the roll-ups outlive the raw rows, and audit stays", async () => {
      const now = new Date("2027-06-15T12:00:00.000Z");
      const old = new Date(now.getTime() - 10 * DAY); // 2027-06-05
      const recent = new Date(now.getTime() - 2 * DAY); // 2027-06-13
      await insertRequestBatch(db, [request("req_ret_old", old), request("req_ret_new", recent)], false);
      await insertFeedbackBatch(db, [
        {
          id: "fbk_ret_old",
          request_id: "req_ret_old",
          at: new Date(old.getTime() + 1000).toISOString(),
          success: true,
          score: null,
          labels: [],
          groups: {},
          comment: "",
          token_id: "t",
          client: "c",
        },
      ]);
      const [{ n: auditBefore } = { n: -1 }] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM audit_events",
      );
      const parts = async (t: string) =>
        (await db.query<{ p: string }>("SELECT modelgov_day_partitions($1) AS p", [t])).map((r) => r.p);

      const report = await applyRetention(db, now, { rawDays: 7, aggregateDays: 30, aheadDays: 2 });
      assert.ok(report.dropped.includes("request_log_p20270605"), JSON.stringify(report));
      assert.ok(report.dropped.includes("feedback_p20270605"));
      assert.ok(!report.dropped.some((p) => p.endsWith("20270613")));
      for (const t of ["request_log", "feedback"]) {
        const have = await parts(t);
        for (const day of ["20270615", "20270616", "20270617"])
          assert.ok(have.includes(`${t}_p${day}`), `${t} ${day} made ahead`);
        assert.ok(!have.includes(`${t}_p20270605`));
      }
      const ids = (
        await db.query<{ id: string }>("SELECT id FROM request_log WHERE model = 'kept' ORDER BY id")
      ).map((r) => r.id);
      assert.deepEqual(ids, ["req_ret_new"]);
      // The old day's minute is still summed (roll-ups kept 30 days), feedback included.
      const w = (
        await windowMetrics(
          db,
          "kept",
          ["ver_a"],
          new Date(old.getTime() - 60_000),
          new Date(old.getTime() + 60_000),
        )
      ).get("ver_a")!;
      assert.equal(w.requests, 1);
      assert.equal(w.successes, 1);
      // And so is its hour's feature roll-up.
      const hourOfOld = Math.floor(old.getTime() / 3_600_000) * 3_600_000;
      const features = async (at: number) =>
        (await featureHistograms(db, "kept", ["ver_a"], new Date(at), new Date(at + 3_600_000))).get(
          "ver_a",
        )!;
      assert.deepEqual((await features(hourOfOld)).tokens_in, { "0": 1 });
      // Row-by-row deletes are still refused; audit untouched.
      await assert.rejects(db.query("DELETE FROM request_log WHERE id = 'req_ret_new'"), /append-only/);
      const [{ n: auditAfter } = { n: -2 }] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM audit_events",
      );
      assert.equal(auditAfter, auditBefore);

      // Past the aggregate retention the sums go too; a second pass is a no-op for partitions.
      const later = await applyRetention(db, new Date(now.getTime() + 40 * DAY), {
        rawDays: 7,
        aggregateDays: 30,
        aheadDays: 0,
      });
      assert.ok(later.rollupRowsDeleted >= 2, JSON.stringify(later));
      const gone = (
        await windowMetrics(
          db,
          "kept",
          ["ver_a"],
          new Date(old.getTime() - 60_000),
          new Date(old.getTime() + 60_000),
        )
      ).get("ver_a")!;
      assert.equal(gone.requests, 0);
      assert.deepEqual(await features(hourOfOld), {}, "the feature roll-up's hour is deleted too");
    });

    test("a row for a day dropped earlier gets its partition back (a spool replayed late is not lost)", async () => {
      const at = new Date("2027-01-01T00:00:10.000Z");
      const cache = createPartitionCache();
      await insertRequestBatch(db, [request("req_ret_a", at)], false, cache);
      await applyRetention(db, new Date("2027-03-01T00:00:00.000Z"), {
        rawDays: 7,
        aggregateDays: 400,
        aheadDays: 0,
      });
      // This process's writer believes the day exists; the insert finds it gone and makes it again.
      await insertRequestBatch(db, [request("req_ret_b", new Date(at.getTime() + 5))], false, cache);
      const ids = (
        await db.query<{ id: string }>(
          "SELECT id FROM request_log WHERE id LIKE 'req_ret_%' AND at < '2027-01-02'",
        )
      ).map((r) => r.id);
      assert.deepEqual(ids, ["req_ret_b"]);
    });
  });
}
