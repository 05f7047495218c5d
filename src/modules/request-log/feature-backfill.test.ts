import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { Registry } from "prom-client";
import { backfillSql, fillSynthetic, HOT, HOT_VERSIONS } from "../../../bench/synthetic-log.ts";
import { createLogger } from "../../lib/logger.ts";
import type { SpoolRow } from "../../lib/spool.ts";
import { type Db, openPglite, openPostgres, type PgliteDb } from "../../store/db.ts";
import { loadMigrations, migrate } from "../../store/migrate.ts";
import { createThrowawayDatabase } from "../../store/throwaway.ts";
import { allStoreTargets, type StoreTarget, testDatabaseUrl } from "../../test-support/stores.ts";
import {
  createFeatureBackfillJob,
  featureBackfillStatus,
  featureHistograms,
  insertRequestBatch,
  mirrorWindow,
  registerFeatureBackfillMetrics,
  runBackfillChunk,
  windowMetrics,
} from "./index.ts";

/*
 * The features migration records the hours to backfill; the leased job sums the rows logged
 * before it (features IS NULL) an hour per transaction, newest first. Every test starts from a
 * log written the old way (before the migration: no features column, roll-ups without tokens),
 * then migrates, then runs the job's chunks, and checks every roll-up read against the raw read.
 */

const FEATURES = "20261209000000_request_features.sql";
const END = new Date("2026-10-03T00:00:00.000Z");
const ROWS = 2520; // over 2 days: 2026-10-01 and 2026-10-02, 140 in each active hour
/**
 * The UTC hours that have rows (9 a day: the job's chunks are the hours with rows, so 18 chunks
 * rather than 48). They hold the ragged windows' ends (05, 13) and the live rows' hours.
 */
const ACTIVE_HOURS = [0, 3, 5, 10, 12, 13, 21, 22, 23];
const HOURS = 2 * ACTIVE_HOURS.length;
const silent = createLogger("silent");

/**
 * A store holding a log written before the features migration, then migrated. It is built once
 * per store and each test starts from a copy (a migration run and the fill are most of a test's
 * time): on PGlite a copy of its data directory, on PostgreSQL a database made from it as a
 * TEMPLATE.
 */
async function oldLog(target: StoreTarget): Promise<{ db: Db; cleanup: () => Promise<void> }> {
  if (target.name === "postgres") {
    const url = testDatabaseUrl()!;
    pgTemplate ??= (async () => {
      const tmp = await createThrowawayDatabase(url, "modelgov_test_oldlog");
      const db = openPostgres(tmp.url, { max: 5 });
      try {
        await buildOldLog(db);
      } finally {
        await db.close(); // a template nobody is connected to
      }
      return tmp;
    })();
    const copy = await createThrowawayDatabase(url, "modelgov_test", (await pgTemplate).name);
    const db = openPostgres(copy.url, { max: 5 });
    return {
      db,
      async cleanup() {
        await db.close();
        await copy.drop();
      },
    };
  }
  pgliteDump ??= (async () => {
    const { db, cleanup } = await target.open();
    try {
      await buildOldLog(db);
      const file = path.join(dumpDir, "old-log.tar.gz");
      await (db as PgliteDb).dumpTo(file);
      return file;
    } finally {
      await cleanup();
    }
  })();
  const db = await openPglite(undefined, { fromDump: await pgliteDump });
  return { db, cleanup: () => db.close() };
}
const dumpDir = mkdtempSync(path.join(os.tmpdir(), "modelgov-backfill-test-"));
let pgliteDump: Promise<string> | undefined;
let pgTemplate: Promise<Awaited<ReturnType<typeof createThrowawayDatabase>>> | undefined;

/** Writes the old log into an empty database `db` and runs the migrations it lacked. */
async function buildOldLog(db: Db): Promise<void> {
  const all = loadMigrations();
  const cut = all.findIndex((m) => m.name === FEATURES);
  assert.ok(cut > 0);
  await migrate(db, all.slice(0, cut));
  await fillSynthetic(db, {
    rows: ROWS,
    days: 2,
    end: END,
    tag: "old",
    legacy: true,
    activeHours: ACTIVE_HOURS,
  });
  // What the writers of the previous release had summed: everything but the new columns.
  for (const s of backfillSql()) await db.query(s);
  assert.deepEqual(
    await migrate(db, all),
    all.slice(cut).map((m) => m.name),
  );
}

const WHOLE: [string, string] = ["2026-10-01T00:00:00Z", "2026-10-03T00:00:00Z"];
const RAGGED: [string, string] = ["2026-10-01T05:17:03Z", "2026-10-02T13:41:00Z"];

/** Every roll-up read equals the raw read over these windows (tokens, outcomes, feature bins). */
async function assertReadsMatch(db: Db, windows: [string, string][]) {
  for (const [from, to] of windows) {
    const f = new Date(from);
    const t = new Date(to);
    for (const [model, versions] of [
      [HOT, HOT_VERSIONS],
      ["model-5", ["ver_5"]],
    ] as const) {
      const fast = await windowMetrics(db, model, [...versions], f, t);
      const slow = await windowMetrics(db, model, [...versions], f, t, { raw: true });
      for (const v of versions) {
        for (const k of [
          "requests",
          "tokensIn",
          "tokensOut",
          "refusals",
          "validityChecked",
          "valid",
        ] as const)
          assert.equal(fast.get(v)![k], slow.get(v)![k], `${model} ${v}.${k} over [${from}, ${to})`);
        assert.ok(slow.get(v)!.tokensIn > 0, `${v} has tokens over [${from}, ${to})`);
      }
      const hf = await featureHistograms(db, model, [...versions], f, t);
      assert.deepEqual(
        hf,
        await featureHistograms(db, model, [...versions], f, t, { raw: true }),
        `${model} feature bins over [${from}, ${to})`,
      );
      assert.ok(Object.keys(hf.get(versions[0])?.tokens_in ?? {}).length > 3, "tokens_in has bins");
    }
    const ma = await mirrorWindow(db, HOT, HOT_VERSIONS[0]!, f, t);
    const mb = await mirrorWindow(db, HOT, HOT_VERSIONS[0]!, f, t, { raw: true });
    assert.deepEqual(
      [ma.requests, ma.tokensIn],
      [mb.requests, mb.tokensIn],
      `mirrored over [${from}, ${to})`,
    );
  }
}

const count = async (db: Db, sql: string) => Number((await db.query<{ n: number }>(sql))[0]?.n ?? 0);

/** A row as the writer inserts it (the table's columns), for the hot model's first version. */
function liveRow(id: string, at: string, over: Partial<SpoolRow> = {}): SpoolRow {
  return {
    id,
    at,
    token_id: "tok_live",
    client: "live",
    model: HOT,
    version_id: HOT_VERSIONS[0],
    version: "1.0.0",
    routed_version_id: HOT_VERSIONS[0],
    route_reason: "alias:production",
    split_scope: null,
    endpoint: "chat.completions",
    stream: false,
    status: 200,
    error_class: null,
    total_ms: 80,
    upstream_ms: 70,
    tokens_in: 5000,
    tokens_out: 77,
    cost_usd: 0.002,
    fallback_path: [{ versionId: HOT_VERSIONS[0], version: "1.0.0", outcome: "served", attempts: 1 }],
    subject_hash: null,
    groups: { region: "apac" },
    prompt_hash: null,
    response_hash: null,
    sampled_body: null,
    shadow_of: null,
    agreement: null,
    features: {
      messages: 3,
      script: "greek",
      toolsOffered: 0,
      toolCalls: 0,
      refusal: true,
      valid: null,
      label: null,
      finishReason: "content_filter",
    },
    ...over,
  };
}

for (const target of allStoreTargets()) {
  describe(`the features backfill job on ${target.name}`, { skip: target.skip }, () => {
    after(async () => {
      rmSync(dumpDir, { recursive: true, force: true });
      if (target.name === "postgres" && pgTemplate) await (await pgTemplate).drop();
    });
    test("a log written before the migration: the job's chunks, newest hour first, make every roll-up read equal the raw read", async () => {
      const { db, cleanup } = await oldLog(target);
      try {
        const registry = new Registry();
        registerFeatureBackfillMetrics(registry, db);
        const before = await featureBackfillStatus(db);
        assert.equal(before?.pending?.from.toISOString(), "2026-10-01T00:00:00.000Z");
        assert.ok((before?.hoursLeft ?? 0) >= 48);
        assert.match(await registry.metrics(), /modelgov_feature_backfill_hours_left \d{2,}/);
        // Before the job: the whole hours read 0 tokens from the roll-ups, the raw rows do not.
        const f = new Date(WHOLE[0]);
        const t = new Date(WHOLE[1]);
        assert.equal((await windowMetrics(db, HOT, HOT_VERSIONS, f, t)).get(HOT_VERSIONS[0]!)!.tokensIn, 0);
        const first = await runBackfillChunk(db);
        assert.deepEqual(first, {
          state: "hour",
          hour: new Date("2026-10-02T23:00:00Z"),
          rows: await count(
            db,
            "SELECT count(*)::int AS n FROM request_log WHERE at >= '2026-10-02T23:00:00Z' AND at < '2026-10-03T00:00:00Z'",
          ),
        });
        const job = createFeatureBackfillJob({ db, logger: silent, holder: "a", budgetMs: 60_000 });
        let pass = await job.tick();
        while (pass && !pass.done) pass = await job.tick();
        assert.equal(pass?.done, true);
        await job.stop();
        const after = await featureBackfillStatus(db);
        assert.deepEqual([after?.pending, after?.hoursDone, after?.rowsDone], [null, HOURS, ROWS]);
        assert.ok(after?.finishedAt);
        const metrics = await registry.metrics();
        assert.match(metrics, /modelgov_feature_backfill_hours_left 0\n/);
        assert.match(metrics, new RegExp(`modelgov_feature_backfill_rows_done ${ROWS}\\n`));
        await assertReadsMatch(db, [WHOLE, RAGGED]);
        // Done is done: another chunk adds nothing.
        assert.deepEqual(await runBackfillChunk(db), { state: "done" });
      } finally {
        await cleanup();
      }
    });

    test("a crash between chunks (or inside one) resumes on a fresh job without double counting", async () => {
      const { db, cleanup } = await oldLog(target);
      try {
        const a = createFeatureBackfillJob({
          db,
          logger: silent,
          holder: "a",
          budgetMs: 0,
          leaseTtlMs: 60_000,
        });
        assert.deepEqual(await a.tick(), { held: true, hours: 1, rows: ROWS / HOURS, done: false });
        // A chunk killed before its COMMIT leaves nothing: not its sums, not the cursor.
        const mid = await featureBackfillStatus(db);
        await assert.rejects(
          runBackfillChunk(db, {
            fence: async (tx) => {
              tx.beforeCommit("crash", async () => {
                throw new Error("killed before commit");
              });
              return true;
            },
          }),
          /killed before commit/,
        );
        assert.deepEqual(await featureBackfillStatus(db), mid);
        // Process A is gone without releasing its lease (never stopped): B waits out its TTL.
        const b = createFeatureBackfillJob({ db, logger: silent, holder: "b", budgetMs: 60_000 });
        assert.deepEqual(await b.tick(), { held: false, hours: 0, rows: 0, done: false });
        // A's TTL passes (by the database's clock, as the lease reads it).
        await db.query(
          "UPDATE controller_leases SET expires_at = now() - interval '1 second' WHERE name = 'request-feature-backfill'",
        );
        const pass = await b.tick();
        assert.equal(pass?.done, true);
        assert.equal(pass?.hours, HOURS - 1);
        await b.stop();
        assert.equal((await featureBackfillStatus(db))?.rowsDone, ROWS);
        await assertReadsMatch(db, [WHOLE, RAGGED]);
      } finally {
        await cleanup();
      }
    });

    test("live writes interleaved with the backfill are counted exactly once", async () => {
      const { db, cleanup } = await oldLog(target);
      try {
        // Hours done, in progress and not reached yet all get live rows (a spool replayed late),
        // one of them without features (stored as {}), one mirrored.
        await runBackfillChunk(db); // 2026-10-02T23
        await runBackfillChunk(db); // 2026-10-02T22
        let n = 0;
        const batch = (ats: string[]) =>
          ats.map((at) => {
            const i = n++;
            return liveRow(
              `live_${i}`,
              at,
              i % 4 === 0 ? { features: null, tokens_in: 3, groups: null } : {},
            );
          });
        await insertRequestBatch(
          db,
          batch(["2026-10-02T23:10:00Z", "2026-10-02T22:59:59Z", "2026-10-02T10:00:00Z"]),
        );
        const job = createFeatureBackfillJob({ db, logger: silent, holder: "a", budgetMs: 0 });
        const ats = [
          "2026-10-02T21:30:00Z",
          "2026-10-02T05:00:00Z",
          "2026-10-01T00:00:01Z",
          "2026-10-01T12:34:56Z",
        ];
        // Batches and chunks at once (the embedded store runs them in turn, PostgreSQL side by side).
        const writes = Promise.all(
          [0, 1, 2, 3, 4, 5].map((i) =>
            insertRequestBatch(db, batch(ats.map((a) => a.replace(":00Z", `:0${i}Z`)))),
          ),
        );
        let pass = await job.tick();
        while (pass && !pass.done) pass = await job.tick();
        await writes;
        await job.stop();
        await insertRequestBatch(db, [
          liveRow("live_shadow", "2026-10-01T03:00:00Z", { shadow_of: "live_1", agreement: true }),
          ...batch(["2026-10-01T03:00:01Z"]),
        ]);
        assert.equal(
          await count(db, "SELECT count(*)::int AS n FROM request_log WHERE features IS NULL"),
          ROWS,
        );
        assert.equal(
          await count(
            db,
            "SELECT count(*)::int AS n FROM request_log WHERE id LIKE 'live%' AND features = '{}'::jsonb",
          ),
          Math.ceil(n / 4),
          "a row without features is stored as {}",
        );
        assert.equal((await featureBackfillStatus(db))?.rowsDone, ROWS, "the job counted only the old rows");
        await assertReadsMatch(db, [WHOLE, RAGGED, ["2026-10-02T22:00:00Z", "2026-10-03T00:00:00Z"]]);
        const hf = await featureHistograms(db, HOT, HOT_VERSIONS, new Date(WHOLE[0]), new Date(WHOLE[1]));
        assert.ok((hf.get(HOT_VERSIONS[0]!)?.script?.greek ?? 0) > 20, "the live rows' features are counted");
      } finally {
        await cleanup();
      }
    });

    test("a day partition dropped mid-backfill is skipped, and days dropped before need nothing", async () => {
      const { db, cleanup } = await oldLog(target);
      try {
        await runBackfillChunk(db); // the newest hour
        const kept = await count(db, "SELECT count(*)::int AS n FROM request_log WHERE at >= '2026-10-02'");
        await db.query("SELECT modelgov_drop_day_partitions_before('request_log', '2026-10-02')");
        assert.equal(
          (await featureBackfillStatus(db))?.pending?.from.toISOString(),
          "2026-10-02T00:00:00.000Z",
        );
        const job = createFeatureBackfillJob({ db, logger: silent, holder: "a", budgetMs: 60_000 });
        const pass = await job.tick();
        await job.stop();
        assert.deepEqual([pass?.done, pass?.hours], [true, ACTIVE_HOURS.length - 1]);
        const s = await featureBackfillStatus(db);
        assert.deepEqual([s?.pending, s?.hoursDone, s?.rowsDone], [null, ACTIVE_HOURS.length, kept]);
        await assertReadsMatch(db, [
          ["2026-10-02T00:00:00Z", "2026-10-03T00:00:00Z"],
          ["2026-10-02T03:17:03Z", "2026-10-02T13:41:00Z"],
        ]);
      } finally {
        await cleanup();
      }
    });
  });
}
