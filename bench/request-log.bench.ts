import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import Table from "cli-table3";
import { systemClock } from "../src/lib/clock.ts";
import { createLogger } from "../src/lib/logger.ts";
import { createRequestLogWriter, type RequestLogEntry } from "../src/modules/request-log/index.ts";
import { type Db, openPglite, openPostgres } from "../src/store/db.ts";
import { migrate } from "../src/store/migrate.ts";
import { createThrowawayDatabase } from "../src/store/throwaway.ts";
import { flakyDb } from "../src/test-support/flaky-db.ts";
import { fillSynthetic, rebuildRollups } from "./synthetic-log.ts";

/**
 * Request-log writer throughput: how many gateway log entries per second the batch writer
 * gets into each store (per batch, one transaction: the rows by COPY on the embedded store or
 * one INSERT … json_to_recordset, and the roll-ups they add), what record() costs the hot
 * path, and how fast the disk spool takes entries during an outage and replays them. The
 * writes run on an empty log and again after `--existing` rows of history (default 10M on
 * PostgreSQL, 1M on the in-memory embedded store; `--existing 0` skips that).
 * `--stores postgres` (or pglite) runs one store; `--no-feature-history` leaves the history's
 * feature roll-up unbuilt (its backfill takes over 20 minutes at 10M rows).
 */

const N = 50_000;
const existingArg = process.argv.indexOf("--existing");
/** Rows of history before the second round of writes. */
const existingRows = (store: "pglite" | "postgres") =>
  existingArg > 0 ? Number(process.argv[existingArg + 1]) : store === "postgres" ? 10_000_000 : 1_000_000;
const HOT_PATH_CALLS = 200_000;
const BATCH_SIZES = [100, 500, 2000];
const DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/test";
const logger = createLogger("silent");
const round = (x: number) => Math.round(x);

interface Store {
  name: "pglite" | "postgres";
  db: Db;
  cleanup(): Promise<void>;
}

async function postgresUrl(): Promise<string | null> {
  const url = process.env.MODELGOV_BENCH_DATABASE_URL;
  if (url) return url;
  const probe = openPostgres(DEFAULT_PG_URL, { max: 1 });
  try {
    await probe.ping();
    return DEFAULT_PG_URL;
  } catch {
    return null;
  } finally {
    await probe.close();
  }
}

async function openPgliteStore(): Promise<Store> {
  const db = await openPglite();
  await migrate(db);
  return { name: "pglite", db, cleanup: () => db.close() };
}

async function openPostgresStore(url: string): Promise<Store> {
  const tmp = await createThrowawayDatabase(url, "modelgov_bench");
  const db = openPostgres(tmp.url, { max: 10 });
  await migrate(db);
  const cleanup = async () => {
    await db.close();
    await tmp.drop();
  };
  return { name: "postgres", db, cleanup };
}

const hex = (s: string) => `sha256:${createHash("sha256").update(s).digest("hex")}`;
const CLIENTS = ["checkout-agent", "triage-bot", "support-bot", "search-agent"];
const SERVED = [
  { versionId: "ver_prod", version: "1.2.0", outcome: "served", attempts: 1, durationMs: 110 },
] as const;
const SAMPLED = { messages: [{ role: "user", content: "x".repeat(900) }] };

/** A realistic entry: hashes, groups, a fallback path; `sampled` adds a ~1 KiB body. */
function makeEntries(run: string, n: number, sampled = false): RequestLogEntry[] {
  const start = Date.now() - n;
  return Array.from({ length: n }, (_, i) => ({
    id: `req_${run}_${i.toString(36)}`,
    at: new Date(start + i).toISOString(),
    tokenId: `tok_${i % 4}`,
    client: CLIENTS[i % 4]!,
    model: "support-assistant",
    versionId: i % 10 === 0 ? "ver_canary" : "ver_prod",
    version: i % 10 === 0 ? "1.3.0" : "1.2.0",
    routeReason: i % 10 === 0 ? "split:90/10 bucket=9123" : "split:90/10 bucket=1234",
    endpoint: i % 3 === 0 ? "messages" : "chat.completions",
    stream: i % 2 === 0,
    status: i % 50 === 0 ? 502 : 200,
    errorClass: i % 50 === 0 ? "upstream_5xx" : null,
    totalMs: 120.5 + (i % 100),
    upstreamMs: 110.25 + (i % 100),
    tokensIn: 420,
    tokensOut: 96,
    costUsd: 0.00123,
    fallbackPath: SERVED,
    subjectHash: hex(`user-${i % 1000}`),
    groups: { region: i % 2 ? "eu" : "us", language: "en" },
    promptHash: hex(`prompt-${i}`),
    responseHash: hex(`response-${i}`),
    sampledBody: sampled ? SAMPLED : null,
  }));
}

async function tempDir() {
  return mkdtemp(path.join(os.tmpdir(), "modelgov-bench-spool-"));
}

/** Records everything as fast as the "gateway" can, then waits for the writer to catch up. */
async function writeThroughput(db: Db, batchSize: number, run: string, sampled = false) {
  const spoolDir = await tempDir();
  // bulk: the store's COPY path stays visible (the embedded store loads fresh batches by COPY).
  const q = flakyDb(db, { bulk: true });
  const w = createRequestLogWriter({
    db: q,
    clock: systemClock,
    logger,
    spoolDir,
    batchSize,
    maxBuffer: N * 2,
  });
  const entries = makeEntries(run, N, sampled);
  const t0 = performance.now();
  for (const e of entries) w.record(e);
  await w.flush();
  const seconds = (performance.now() - t0) / 1000;
  const s = w.stats();
  await w.stop();
  await rm(spoolDir, { recursive: true, force: true });
  if (s.written !== N || s.spooledEntries || s.dropped)
    throw new Error(`bench run ${run} lost entries: ${JSON.stringify(s)}`);
  return {
    batchSize,
    sampledBody: sampled,
    entries: N,
    inserts: q.inserts,
    seconds: round2(seconds),
    recordsPerSecond: round(N / seconds),
  };
}

const round2 = (x: number) => Math.round(x * 1000) / 1000;

/** record() alone: the cost the gateway's hot path pays per request. */
function hotPath() {
  const w = createRequestLogWriter({
    db: { query: async () => [] },
    clock: systemClock,
    logger,
    spoolDir: os.tmpdir(),
    batchSize: HOT_PATH_CALLS * 2,
    maxBuffer: HOT_PATH_CALLS * 2,
  });
  const entries = makeEntries("hot", HOT_PATH_CALLS);
  const t0 = performance.now();
  for (const e of entries) w.record(e);
  const ms = performance.now() - t0;
  return { calls: HOT_PATH_CALLS, nsPerRecord: round((ms * 1e6) / HOT_PATH_CALLS) };
}

/** The store is down: every batch goes to the fsync'd spool; then it is back and the spool is replayed. */
async function outage(db: Db, run: string) {
  const spoolDir = await tempDir();
  const q = flakyDb(db);
  const w = createRequestLogWriter({ db: q, clock: systemClock, logger, spoolDir, maxBuffer: N * 2 });
  const entries = makeEntries(run, N);
  q.down = true;
  let t0 = performance.now();
  for (const e of entries) w.record(e);
  await w.flush();
  const spoolSeconds = (performance.now() - t0) / 1000;
  const spooled = w.stats().spooledEntries;
  q.down = false;
  t0 = performance.now();
  const r = await w.replaySpool();
  const replaySeconds = (performance.now() - t0) / 1000;
  await w.stop();
  await rm(spoolDir, { recursive: true, force: true });
  if (spooled !== N || r.replayed !== N)
    throw new Error(`outage run lost entries: spooled ${spooled}, replayed ${r.replayed}`);
  return {
    entries: N,
    spool: { seconds: round2(spoolSeconds), recordsPerSecond: round(N / spoolSeconds) },
    replay: { seconds: round2(replaySeconds), recordsPerSecond: round(N / replaySeconds) },
  };
}

async function runStore(store: Store) {
  try {
    console.log(`\n${store.name}: ${N.toLocaleString()} entries per run`);
    // Warm-up: first inserts pay for catalog lookups and JIT.
    await writeThroughput(store.db, 500, `warm${store.name}`);
    const writes = [];
    for (const b of BATCH_SIZES) writes.push(await writeThroughput(store.db, b, `b${b}${store.name}`));
    writes.push(await writeThroughput(store.db, 500, `s500${store.name}`, true));
    const existing = existingRows(store.name);
    if (existing > 0) {
      const t0 = performance.now();
      await fillSynthetic(store.db, {
        rows: existing,
        end: new Date(),
        tag: "hist",
        onProgress: (n) => process.stderr.write(`\r${store.name}: ${n.toLocaleString()} rows of history`),
      });
      await rebuildRollups(store.db, { features: !process.argv.includes("--no-feature-history") });
      process.stderr.write(` (${Math.round((performance.now() - t0) / 1000)} s)\n`);
      for (const b of [500, 2000]) {
        const w = await writeThroughput(store.db, b, `h${b}${store.name}`);
        writes.push({ ...w, existingRows: existing });
      }
    }
    const out = await outage(store.db, `out${store.name}`);
    const hot = hotPath();
    const table = new Table({
      head: ["run", "batch", "INSERTs", "seconds", "records/s"],
      style: { head: [], border: [] },
    });
    for (const w of writes)
      table.push([
        "existingRows" in w
          ? `write, ${Number(w.existingRows).toLocaleString()} rows already logged`
          : w.sampledBody
            ? "write, 1 KiB sampled body"
            : "write",
        w.batchSize,
        w.inserts,
        w.seconds,
        w.recordsPerSecond,
      ]);
    table.push(["spool (store down, fsync)", 500, 0, out.spool.seconds, out.spool.recordsPerSecond]);
    table.push(["replay spool", 500, Math.ceil(N / 500), out.replay.seconds, out.replay.recordsPerSecond]);
    console.log(table.toString());
    console.log(
      `record() on the hot path: ${hot.nsPerRecord} ns per call (${hot.calls.toLocaleString()} calls)`,
    );
    const result = {
      store: store.name,
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "unknown", node: process.version },
      writes,
      outage: out,
      hotPath: hot,
    };
    const dir = new URL("./results/", import.meta.url);
    await mkdir(dir, { recursive: true });
    await writeFile(new URL(`request-log-${store.name}.json`, dir), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await store.cleanup();
  }
}

async function main() {
  const only = process.argv.includes("--stores")
    ? process.argv[process.argv.indexOf("--stores") + 1]!
    : "pglite,postgres";
  if (only.includes("pglite")) await runStore(await openPgliteStore());
  if (!only.includes("postgres")) return;
  const url = await postgresUrl();
  if (url) await runStore(await openPostgresStore(url));
  else console.log("PostgreSQL not reachable: set MODELGOV_BENCH_DATABASE_URL to bench it");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
