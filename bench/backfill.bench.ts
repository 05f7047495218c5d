import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { performance } from "node:perf_hooks";
import type { SpoolRow } from "../src/lib/spool.ts";
import {
  featureBackfillStatus,
  insertRequestBatch,
  runBackfillChunk,
} from "../src/modules/request-log/index.ts";
import { openPostgres } from "../src/store/db.ts";
import { loadMigrations, migrate } from "../src/store/migrate.ts";
import { createThrowawayDatabase } from "../src/store/throwaway.ts";
import { backfillSql, fillSynthetic } from "./synthetic-log.ts";

/*
 * The upgrade cost of the features migration on an existing log (PostgreSQL):
 *
 *   npm run bench:backfill                       # 10M requests over 30 days
 *   npm run bench:backfill -- --rows 1000000 --writer-seconds 20
 *
 * A throwaway database is migrated up to just before 20261209000000_request_features.sql and
 * filled with a synthetic log the old way (no features column; the roll-ups summed as the
 * previous release's writers left them). Then: the pending migrations' own time (the features
 * migration alone, and the rest); the request-log writer's insert throughput alone (batches of
 * 200 at the current time, as the gateway writes); the backfill job's chunks back to back with
 * that writer running beside it for the first `--writer-seconds`, then alone to the end:
 * total time, rows per second with and without the writer, the writer's throughput meanwhile.
 */

const DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/test";
const FEATURES = "20261209000000_request_features.sql";
const HOUR = 3_600_000;
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const ROWS = Number(arg("rows") ?? 10_000_000);
const WRITER_SECONDS = Number(arg("writer-seconds") ?? 30);
const BATCH = 200;
const log = (s: string) => process.stderr.write(`${s}\n`);

let seq = 0;
function liveBatch(now: number): SpoolRow[] {
  return Array.from({ length: BATCH }, (_, k) => {
    const i = seq++;
    const model = i % 10 < 4 ? "hot" : `model-${i % 20}`;
    const vid = model === "hot" ? (i % 100 < 4 ? "ver_hot_b" : "ver_hot_a") : `ver_${i % 20}`;
    return {
      id: `live_${i}`,
      at: new Date(now + k).toISOString(),
      token_id: "tok_live",
      client: `client-${i % 4}`,
      model,
      version_id: vid,
      version: "1.0.0",
      routed_version_id: vid,
      route_reason: "alias:production",
      split_scope: null,
      endpoint: "chat.completions",
      stream: false,
      status: i % 50 === 0 ? 502 : 200,
      error_class: i % 50 === 0 ? "upstream_5xx" : null,
      total_ms: 40 + (i % 997),
      upstream_ms: 30 + (i % 997),
      tokens_in: 200 + ((i * 31) % 997),
      tokens_out: 20 + ((i * 7) % 300),
      cost_usd: 0.00123,
      fallback_path: [
        { versionId: vid, version: "1.0.0", outcome: i % 50 === 0 ? "failed" : "served", attempts: 1 },
      ],
      subject_hash: null,
      groups: { region: i % 2 === 0 ? "eu" : "us" },
      prompt_hash: null,
      response_hash: null,
      sampled_body: null,
      shadow_of: null,
      agreement: null,
      features: {
        messages: 1 + (i % 6),
        script: i % 20 === 0 ? "cyrillic" : "latin",
        toolsOffered: i % 4 === 1 ? 2 : 0,
        toolCalls: 0,
        refusal: i % 101 === 3,
        valid: null,
        label: null,
        finishReason: "stop",
      },
    };
  });
}

const url = process.env.MODELGOV_BENCH_DATABASE_URL ?? DEFAULT_PG_URL;
const tmp = await createThrowawayDatabase(url, "modelgov_bench");
const db = openPostgres(tmp.url, { max: 4 });
try {
  const all = loadMigrations();
  const cut = all.findIndex((m) => m.name === FEATURES);
  await migrate(db, all.slice(0, cut));
  const end = new Date(Math.floor(Date.now() / HOUR) * HOUR);
  let t0 = performance.now();
  await fillSynthetic(db, {
    rows: ROWS,
    end,
    legacy: true,
    onProgress: (n) => process.stderr.write(`\rfill: ${n.toLocaleString()} rows`),
  });
  const fillMs = performance.now() - t0;
  t0 = performance.now();
  for (const s of backfillSql()) await db.query(s);
  const oldSumsMs = performance.now() - t0;
  await db.query("VACUUM ANALYZE");
  log(
    `\nfilled ${ROWS.toLocaleString()} rows in ${Math.round(fillMs / 1000)} s, old roll-ups in ${Math.round(oldSumsMs / 1000)} s`,
  );

  t0 = performance.now();
  await migrate(db, all.slice(0, cut + 1));
  const featuresMigrationMs = performance.now() - t0;
  t0 = performance.now();
  await migrate(db, all);
  const restMs = performance.now() - t0;
  const status = await featureBackfillStatus(db);
  log(
    `migration ${FEATURES}: ${featuresMigrationMs.toFixed(0)} ms (the later ones: ${restMs.toFixed(0)} ms); ` +
      `${status?.hoursLeft} hours to backfill`,
  );

  async function writeFor(ms: number, stop?: { done: boolean }): Promise<{ rows: number; ms: number }> {
    const s = performance.now();
    let rows = 0;
    while (performance.now() - s < ms && !stop?.done) {
      await insertRequestBatch(db, liveBatch(Date.now()));
      rows += BATCH;
    }
    return { rows, ms: performance.now() - s };
  }
  await writeFor(2_000); // warm-up
  const alone = await writeFor(WRITER_SECONDS * 1000);
  const writerAlone = (alone.rows / alone.ms) * 1000;
  log(`writer alone: ${Math.round(writerAlone)} rows/s`);

  const stop = { done: false };
  const writer = writeFor(WRITER_SECONDS * 1000, stop);
  t0 = performance.now();
  let rows = 0;
  let hours = 0;
  let withWriter: { rows: number; ms: number } | null = null;
  let writerDuring: { rows: number; ms: number } | null = null;
  const writerDone = writer.then((w) => {
    writerDuring = w;
  });
  let chunkMsMax = 0;
  for (;;) {
    const c0 = performance.now();
    const c = await runBackfillChunk(db);
    chunkMsMax = Math.max(chunkMsMax, performance.now() - c0);
    if (c.state !== "hour") break;
    rows += c.rows;
    hours++;
    if (!withWriter && writerDuring) withWriter = { rows, ms: performance.now() - t0 };
    if (hours % 50 === 0) process.stderr.write(`\rbackfill: ${hours} hours, ${rows.toLocaleString()} rows`);
  }
  const backfillMs = performance.now() - t0;
  stop.done = true;
  await writerDone;
  const w = writerDuring as { rows: number; ms: number } | null;
  const during = w ? (w.rows / w.ms) * 1000 : 0;
  const mixed = withWriter as { rows: number; ms: number } | null;
  const result = {
    at: new Date().toISOString(),
    cpus: os.cpus().length,
    loadavg: os.loadavg(),
    rows: ROWS,
    fillSeconds: fillMs / 1000,
    featuresMigrationMs,
    laterMigrationsMs: restMs,
    backfill: {
      hours,
      rows,
      seconds: backfillMs / 1000,
      rowsPerSecond: (rows / backfillMs) * 1000,
      withWriterRowsPerSecond: mixed ? (mixed.rows / mixed.ms) * 1000 : null,
      aloneRowsPerSecond: mixed ? ((rows - mixed.rows) / (backfillMs - mixed.ms)) * 1000 : null,
      slowestChunkMs: chunkMsMax,
    },
    writer: { batch: BATCH, aloneRowsPerSecond: writerAlone, duringBackfillRowsPerSecond: during },
  };
  log("");
  console.log(JSON.stringify(result, null, 2));
  await mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await writeFile(
    new URL("./results/backfill.json", import.meta.url),
    `${JSON.stringify(result, null, 2)}\n`,
  );
} finally {
  await db.close();
  await tmp.drop();
}
