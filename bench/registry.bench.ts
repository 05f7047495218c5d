import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { performance } from "node:perf_hooks";
import Table from "cli-table3";
import { systemClock } from "../src/lib/clock.ts";
import type { VersionCreate } from "../src/modules/registry/index.ts";
import { createServices, type Services } from "../src/services.ts";
import { type Db, openPglite, openPostgres } from "../src/store/db.ts";
import { migrate } from "../src/store/migrate.ts";
import { createThrowawayDatabase } from "../src/store/throwaway.ts";

/**
 * Registry benchmark: registers 10,000 versions through the real service path (transaction,
 * semver checks, audit event), then times list, search and recommend on each store.
 */

const MODELS = 200;
const VERSIONS_PER_MODEL = 50;
const PROMOTED = [VERSIONS_PER_MODEL - 30, VERSIONS_PER_MODEL - 10, VERSIONS_PER_MODEL - 1];
const ITERATIONS = 200;
const WARMUP = 5;
const USE_CASES = [
  "customer-support",
  "summarization",
  "code-review",
  "ticket-routing",
  "translation",
  "search",
  "moderation",
  "extraction",
];
const RISK_TIERS = ["low", "medium", "high", "critical"] as const;
const OPENAI_MODELS = ["gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "gpt-4.1-2025-04-14", "o3-mini"];
const DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/test";
const ctx = { actor: "bench", requestId: "bench" };

interface Store {
  name: "pglite" | "postgres";
  concurrency: number;
  db: Db;
  cleanup(): Promise<void>;
}

/** Seeded PRNG so both stores get the same dataset and results compare. */
function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Nearest-rank percentiles over the sorted samples. */
function summarise(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
  const mean = s.reduce((acc, x) => acc + x, 0) / s.length;
  return { n: s.length, p50: round2(rank(50)), p99: round2(rank(99)), mean: round2(mean) };
}

type Stats = ReturnType<typeof summarise>;

/** PostgreSQL from the env, else the local default if something answers there. */
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
  // One embedded connection: concurrent callers would only queue behind each other.
  return { name: "pglite", concurrency: 1, db, cleanup: () => db.close() };
}

/** A throwaway database on the server, dropped WITH (FORCE) afterwards, as the test stores do. */
async function openPostgresStore(url: string): Promise<Store> {
  const tmp = await createThrowawayDatabase(url, "modelgov_bench");
  const db = openPostgres(tmp.url, { max: 10 });
  const cleanup = async () => {
    await db.close();
    await tmp.drop();
  };
  return { name: "postgres", concurrency: 8, db, cleanup };
}

function versionInput(model: number, i: number, rand: () => number): VersionCreate {
  const openai = model % 2 === 1;
  return {
    version: `1.0.${i}`,
    provider: openai ? "openai" : "simulator",
    providerModelId: openai ? OPENAI_MODELS[(model + i) % OPENAI_MODELS.length]! : `sim-${model}-${i}`,
    parameters: openai ? { temperature: 0.2 } : {},
    changelog: `bench release ${i}`,
    metrics: {
      success_rate: round2(0.7 + rand() * 0.29),
      latency_p95_ms: Math.round(200 + rand() * 1800),
      cost_per_1k_usd: round2(0.1 + rand() * 2),
    },
    limitations: [],
    tags: [`batch-${i % 5}`],
  };
}

/** Creates the models, then registers their versions with `concurrency` workers, each owning whole models. */
async function populate(store: Store, services: Services) {
  const { registry } = services;
  const rand = mulberry32(42);
  for (let m = 0; m < MODELS; m++)
    await registry.createModel(ctx, {
      name: `bench-model-${m}`,
      owner: `team-${m % 10}`,
      description: `benchmark model ${m}`,
      useCases: [USE_CASES[m % USE_CASES.length]!, USE_CASES[(m * 3 + 1) % USE_CASES.length]!],
      riskTier: RISK_TIERS[m % RISK_TIERS.length]!,
      tags: ["bench", `family-${m % 5}`],
    });
  const inputs = Array.from({ length: MODELS }, (_, m) =>
    Array.from({ length: VERSIONS_PER_MODEL }, (_, i) => versionInput(m, i, rand)),
  );
  const samples: number[] = [];
  let next = 0;
  const worker = async () => {
    for (let m = next++; m < MODELS; m = next++)
      for (const input of inputs[m]!) {
        const t0 = performance.now();
        await registry.registerVersion(ctx, `bench-model-${m}`, input);
        samples.push(performance.now() - t0);
        if (samples.length % 1000 === 0) console.log(`  [${store.name}] registered ${samples.length}`);
      }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: store.concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;

  // Promotions give recommend production versions to rank; retention keeps the three newest.
  const promotions: number[] = [];
  for (let m = 0; m < MODELS; m++)
    for (const i of PROMOTED) {
      const t = performance.now();
      await registry.setAlias(ctx, `bench-model-${m}`, "production", `1.0.${i}`, "bench");
      promotions.push(performance.now() - t);
    }
  return {
    versions: samples.length,
    seconds: round2(seconds),
    versionsPerSecond: round2(samples.length / seconds),
    perRegistration: summarise(samples),
    promotion: summarise(promotions),
  };
}

/** Warm-up calls first, then ITERATIONS timed calls; `call(i)` rotates its query by `i`. */
async function time(call: (i: number) => Promise<unknown>): Promise<Stats> {
  for (let i = 0; i < WARMUP; i++) await call(i);
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const t0 = performance.now();
    await call(i);
    samples.push(performance.now() - t0);
  }
  return summarise(samples);
}

const pick = <T>(list: readonly T[], i: number) => list[i % list.length]!;

async function cursorAfterPages(services: Services, pages: number): Promise<string> {
  let cursor: string | undefined;
  for (let p = 0; p < pages; p++) {
    const r = await services.registry.listVersions({ limit: 50, cursor });
    if (!r.nextCursor) throw new Error(`only ${p + 1} pages of versions`);
    cursor = r.nextCursor;
  }
  return cursor!;
}

async function queries(services: Services): Promise<Record<string, Stats>> {
  const { registry } = services;
  const cursor = await cursorAfterPages(services, 20);
  const versionQ = ["4o-mini", "gpt-4.1", "bench-model-17", "sim-12", "o3-mini"];
  const modelQ = ["team-3", "team-7", "summarization", "family-2"];
  return {
    "list versions (first page)": await time(() => registry.listVersions({ limit: 50 })),
    "list versions (cursor page 21)": await time(() => registry.listVersions({ limit: 50, cursor })),
    "list models (first page)": await time(() => registry.listModels({ limit: 50 })),
    "search versions q=<fragment>": await time((i) =>
      registry.listVersions({ q: pick(versionQ, i), limit: 50 }),
    ),
    "search versions useCase+status=production": await time((i) =>
      registry.listVersions({ useCase: pick(USE_CASES, i + 4), status: "production", limit: 50 }),
    ),
    "search models q=<team/use case>": await time((i) =>
      registry.listModels({ q: pick(modelQ, i), limit: 50 }),
    ),
    "recommend success_rate": await time((i) =>
      registry.recommend({ useCase: pick(USE_CASES, i), metric: "success_rate", limit: 10 }),
    ),
    "recommend latency_p95_ms": await time((i) =>
      registry.recommend({ useCase: pick(USE_CASES, i), metric: "latency_p95_ms", limit: 10 }),
    ),
  };
}

async function datasetSizes(db: Db) {
  const [row] = await db.query<Record<string, number>>(
    `SELECT (SELECT count(*)::int FROM models) AS models,
            (SELECT count(*)::int FROM model_versions) AS versions,
            (SELECT count(*)::int FROM model_versions WHERE status = 'production') AS production_versions,
            (SELECT count(*)::int FROM audit_events) AS audit_events`,
  );
  return row!;
}

function printTable(store: Store, reg: Awaited<ReturnType<typeof populate>>, ops: Record<string, Stats>) {
  // No colours: the table is read in logs and pasted into reports.
  const table = new Table({
    head: ["operation", "n", "p50 ms", "p99 ms", "mean ms"],
    style: { head: [], border: [] },
  });
  const row = (name: string, s: Stats) => [name, s.n, s.p50.toFixed(2), s.p99.toFixed(2), s.mean.toFixed(2)];
  table.push(row("registerVersion", reg.perRegistration), row("setAlias production", reg.promotion));
  for (const [name, s] of Object.entries(ops)) table.push(row(name, s));
  console.log(
    `\n${store.name}: ${reg.versions} versions in ${reg.seconds}s = ${reg.versionsPerSecond} versions/s ` +
      `(concurrency ${store.concurrency})`,
  );
  console.log(table.toString());
}

async function runStore(store: Store) {
  try {
    await migrate(store.db);
    const services = createServices({ db: store.db, clock: systemClock });
    console.log(`[${store.name}] registering ${MODELS * VERSIONS_PER_MODEL} versions…`);
    const registration = await populate(store, services);
    // Fresh statistics, as autovacuum would give a server after a bulk load: without them the planner
    // seq-scans every search, and whether autoanalyze fired mid-run made results vary. PGlite has no
    // autovacuum worker at all, so it only gets statistics from an explicit ANALYZE.
    await store.db.exec("ANALYZE");
    console.log(`[${store.name}] timing queries (${ITERATIONS} iterations each)…`);
    const operations = await queries(services);
    printTable(store, registration, operations);
    const result = {
      store: store.name,
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "unknown", node: process.version },
      dataset: await datasetSizes(store.db),
      concurrency: store.concurrency,
      iterations: ITERATIONS,
      warmup: WARMUP,
      analyzedBeforeQueries: true,
      registration,
      operations,
    };
    const dir = new URL("./results/", import.meta.url);
    await mkdir(dir, { recursive: true });
    await writeFile(new URL(`registry-${store.name}.json`, dir), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await store.cleanup();
  }
}

async function main() {
  const started = performance.now();
  await runStore(await openPgliteStore());
  const url = await postgresUrl();
  if (url) await runStore(await openPostgresStore(url));
  else console.log("PostgreSQL not reachable: set MODELGOV_BENCH_DATABASE_URL to bench it");
  console.log(`\nwall time ${((performance.now() - started) / 1000).toFixed(1)}s`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
