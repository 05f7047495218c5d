import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fillSynthetic, HOT, HOT_VERSIONS, rebuildRollups } from "../../../bench/synthetic-log.ts";
import type { Db } from "../../store/db.ts";
import { loadMigrations, migrate } from "../../store/migrate.ts";
import { allStoreTargets } from "../../test-support/stores.ts";
import {
  clientTraffic,
  featureBackfillStatus,
  featureHistograms,
  mirrorWindow,
  runBackfillChunk,
  windowMetrics,
} from "./index.ts";

/*
 * An existing deployment's rows, logged before partitions and roll-ups: the migration moves
 * them into day partitions and sums them by the same rules the writers follow, so the
 * windows read from the roll-ups equal the windows read from the raw rows. The features
 * backfill job then sums their tokens and bins them (they have no features: tokens and groups).
 */

const ROLLUPS = "20261208000000_request_log_rollups.sql";

for (const target of allStoreTargets()) {
  describe(`the roll-up migration on ${target.name}`, { skip: target.skip }, () => {
    let db: Db;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ db, cleanup } = await target.open());
    });
    after(() => cleanup?.());

    test("rows logged before it are moved into day partitions and summed as the writers sum them", async () => {
      const all = loadMigrations();
      const cut = all.findIndex((m) => m.name === ROLLUPS);
      assert.ok(cut > 0, "the roll-up migration is in the list");
      await migrate(db, all.slice(0, cut));
      // 400 requests over two UTC days, mixed outcomes, shadows and late feedback.
      await db.query(
        `INSERT INTO request_log (id, at, token_id, client, model, version_id, version, route_reason, endpoint,
                                  stream, status, total_ms, cost_usd, fallback_path, groups, subject_hash, shadow_of, agreement,
                                  tokens_in, tokens_out)
         SELECT 'req_old_' || i, '2026-05-31T23:40:00Z'::timestamptz + (i * 7) * interval '1 second',
                'tok', CASE WHEN i % 5 = 0 THEN NULL ELSE 'c' || (i % 3) END, 'legacy',
                CASE WHEN i % 4 = 0 THEN 'ver_b' ELSE 'ver_a' END, '1.0.0', 'alias:production', 'chat.completions',
                false, CASE WHEN i % 11 = 0 THEN 503 WHEN i % 13 = 0 THEN 429 ELSE 200 END,
                (i % 97) * 3.7 + 0.5, (i % 10) / 1000.0,
                CASE WHEN i % 9 = 0 THEN '[]'::jsonb
                     ELSE jsonb_build_array(jsonb_build_object('versionId', CASE WHEN i % 4 = 0 THEN 'ver_b' ELSE 'ver_a' END,
                                                               'outcome', CASE WHEN i % 17 = 0 THEN 'failed' ELSE 'served' END)) END,
                CASE WHEN i % 3 = 0 THEN NULL ELSE jsonb_build_object('region', CASE WHEN i % 2 = 0 THEN 'eu' ELSE 'us' END) END,
                'sha256:' || (i % 50), CASE WHEN i % 10 = 7 THEN 'req_old_' || (i - 1) END,
                CASE WHEN i % 10 = 7 THEN i % 20 = 7 END, (i * 37) % 3000, i % 90
           FROM generate_series(1, 400) AS i`,
      );
      await db.query(
        `INSERT INTO feedback (id, request_id, at, success, score, groups, token_id, client)
         SELECT 'fbk_old_' || i || '_' || k, 'req_old_' || i,
                '2026-05-31T23:40:00Z'::timestamptz + (i * 7 + k * 500) * interval '1 second',
                CASE WHEN (i + k) % 6 = 0 THEN NULL ELSE (i * k) % 3 <> 0 END, (i % 5) / 4.0,
                CASE WHEN k = 2 THEN '{"region": "apac"}'::jsonb ELSE '{}'::jsonb END, 'tok', 'c'
           FROM generate_series(1, 400) AS i, generate_series(1, 2) AS k
          WHERE i % 3 <> 0`,
      );
      assert.deepEqual(
        await migrate(db, all),
        all.slice(cut).map((m) => m.name),
      );
      // The features migration records the hours to backfill; the job sums them, an hour a chunk.
      const pending = await featureBackfillStatus(db);
      // From the oldest day kept raw up to the end of the hour the migration ran in.
      assert.equal(pending?.pending?.from.toISOString(), "2026-05-31T00:00:00.000Z");
      assert.ok((pending?.pending?.to.getTime() ?? 0) >= Date.now(), "up to the current hour");
      let chunks = 0;
      while ((await runBackfillChunk(db)).state === "hour") chunks++;
      assert.equal(chunks, 2, "the two hours with rows, 2026-06-01T00 then 2026-05-31T23");
      assert.equal((await featureBackfillStatus(db))?.rowsDone, 400);
      const parts = (await db.query<{ p: string }>("SELECT modelgov_day_partitions('request_log') AS p")).map(
        (r) => r.p,
      );
      assert.deepEqual(parts, ["request_log_p20260531", "request_log_p20260601"]);
      const [{ n } = { n: 0 }] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM request_log");
      assert.equal(n, 400);

      for (const [from, to] of [
        ["2026-05-31T23:00:00Z", "2026-06-01T02:00:00Z"],
        ["2026-05-31T23:41:10.5Z", "2026-06-01T00:20:03Z"],
      ] as const) {
        const f = new Date(from);
        const t = new Date(to);
        const fast = await windowMetrics(db, "legacy", ["ver_a", "ver_b"], f, t);
        const slow = await windowMetrics(db, "legacy", ["ver_a", "ver_b"], f, t, { raw: true });
        for (const v of ["ver_a", "ver_b"]) {
          const a = fast.get(v)!;
          const b = slow.get(v)!;
          assert.ok(b.requests > 20 && b.feedbackCount > 5, `${v} has data`);
          for (const k of [
            "requests",
            "errors",
            "feedbackCount",
            "successes",
            "scoreCount",
            "latencyHistogram",
            "groups",
            "tokensIn",
            "tokensOut",
            "refusals",
            "validityChecked",
          ] as const)
            assert.deepEqual(a[k], b[k], `${v}.${k} over [${from}, ${to})`);
          for (const k of ["costUsd", "costSumSquares", "scoreSum", "scoreSumSquares"] as const)
            assert.ok(Math.abs((a[k] ?? Number.NaN) - (b[k] ?? 0)) < 1e-9, `${v}.${k}: ${a[k]} vs ${b[k]}`);
          const ma = await mirrorWindow(db, "legacy", v, f, t);
          const mb = await mirrorWindow(db, "legacy", v, f, t, { raw: true });
          assert.deepEqual(
            [ma.requests, ma.errors, ma.agreed, ma.agreementCompared, ma.tokensIn],
            [mb.requests, mb.errors, mb.agreed, mb.agreementCompared, mb.tokensIn],
          );
          assert.ok(a.tokensIn > 0 && a.tokensOut > 0, `${v}: the old rows' tokens are summed`);
        }
        const hf = await featureHistograms(db, "legacy", ["ver_a", "ver_b"], f, t);
        assert.deepEqual(hf, await featureHistograms(db, "legacy", ["ver_a", "ver_b"], f, t, { raw: true }));
        const a = hf.get("ver_a")!;
        assert.deepEqual(Object.keys(a).sort(), ["group", "group:region", "tokens_in", "tokens_out"]);
      }
      const deps = await clientTraffic(db, "legacy", new Date("2026-05-31T23:00:00Z"));
      assert.equal(
        deps.reduce((s, d) => s + d.requests, 0),
        360,
        "served requests by client and version",
      );
      assert.ok(
        deps.some((d) => d.client === ""),
        "requests without a token are kept",
      );
    });

    test("the synthetic log (bench) is filled with features and summed by the backfills (roll-up migration, feature job) as the writers sum", async () => {
      const end = new Date("2026-09-02T00:00:00.000Z");
      await migrate(db, loadMigrations()); // already done by the test before, if it ran
      await fillSynthetic(db, { rows: 6000, days: 2, end, tag: "syn" });
      await rebuildRollups(db);
      for (const [from, to] of [
        ["2026-08-31T00:00:00Z", "2026-09-02T00:00:00Z"],
        ["2026-08-31T05:17:03Z", "2026-09-01T13:41:00Z"],
      ] as const) {
        const f = new Date(from);
        const t = new Date(to);
        const fast = await windowMetrics(db, HOT, HOT_VERSIONS, f, t);
        const slow = await windowMetrics(db, HOT, HOT_VERSIONS, f, t, { raw: true });
        for (const v of HOT_VERSIONS)
          for (const k of [
            "requests",
            "tokensIn",
            "tokensOut",
            "refusals",
            "validityChecked",
            "valid",
          ] as const)
            assert.equal(fast.get(v)![k], slow.get(v)![k], `${v}.${k} over [${from}, ${to})`);
        const w = fast.get(HOT_VERSIONS[0]!)!;
        assert.ok(w.refusals > 0 && w.validityChecked > w.valid && w.valid > 0, "the fill has outcomes");
        const hf = await featureHistograms(db, HOT, HOT_VERSIONS, f, t);
        assert.deepEqual(hf, await featureHistograms(db, HOT, HOT_VERSIONS, f, t, { raw: true }));
        const a = hf.get(HOT_VERSIONS[0]!)!;
        for (const feature of [
          "messages",
          "script",
          "tools_offered",
          "tool_calls",
          "refusal",
          "valid",
          "label",
        ])
          assert.ok(Object.keys(a[feature] ?? {}).length >= 2, `${feature} has several bins`);
      }
    });
  });
}
