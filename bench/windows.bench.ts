import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { performance } from "node:perf_hooks";
import Table from "cli-table3";
import {
  clientTraffic,
  errorCounts,
  featureHistograms,
  type ReadOptions,
  shadowPairs,
  unitsPerVersion,
  windowMetrics,
} from "../src/modules/request-log/index.ts";
import { type Db, openPglite, openPostgres } from "../src/store/db.ts";
import { migrate } from "../src/store/migrate.ts";
import { createThrowawayDatabase } from "../src/store/throwaway.ts";
import { fillSynthetic, HOT, HOT_VERSIONS, rebuildRollups, SCOPE } from "./synthetic-log.ts";

/*
 * What a look costs as history grows: the analyses' reads (as the jobs run them) on a log of
 * 100k, 1M and 10M requests over 30 days, read from the roll-ups (what the server does) and
 * from the raw rows (what it did before issue 16). Median of 3 runs of 5 each (the raw reads
 * at 10M rows and more: median of 3 single looks).
 *
 *   npm run bench:windows                      # PostgreSQL at 100k, 1M, 10M; PGlite at 100k, 1M
 *   npm run bench:windows -- --sizes 100000,1000000 --stores postgres
 *
 * Also reports the disk a day of traffic takes (raw rows with indexes, and roll-ups).
 */

const DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/test";
const DAY = 86_400_000;
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const SIZES = (arg("sizes") ?? "100000,1000000,10000000").split(",").map(Number);
const STORES = (arg("stores") ?? "postgres,pglite").split(",");
const PGLITE_MAX = Number(arg("pglite-max") ?? 1_000_000);

interface Look {
  name: string;
  run(db: Db, now: Date, opts: ReadOptions): Promise<unknown>;
}

const LOOKS: Look[] = [
  {
    name: "experiment look, 7-day window",
    run: async (db, now, opts) => {
      await windowMetrics(db, HOT, HOT_VERSIONS, new Date(now.getTime() - 7 * DAY), now, opts);
      await unitsPerVersion(db, SCOPE);
    },
  },
  {
    name: "rollout analysis, 24 h step",
    run: (db, now, opts) =>
      windowMetrics(db, HOT, HOT_VERSIONS, new Date(now.getTime() - DAY + 17_345), now, opts),
  },
  {
    name: "rollout analysis, last 60 min",
    run: (db, now, opts) =>
      windowMetrics(db, HOT, HOT_VERSIONS, new Date(now.getTime() - 3_600_000), now, opts),
  },
  {
    name: "monitor: feature histograms, 7 days to now",
    run: (db, now, opts) =>
      featureHistograms(db, HOT, HOT_VERSIONS, new Date(now.getTime() - 7 * DAY), now, opts),
  },
  {
    name: "dependents, 24 h",
    run: (db, now) => clientTraffic(db, HOT, new Date(now.getTime() - DAY)),
  },
  {
    name: "shadow report, 24 h (raw rows)",
    run: (db, now) => shadowPairs(db, HOT, new Date(now.getTime() - DAY)),
  },
  {
    name: "fast path, last 10 s",
    run: (db, now, opts) => errorCounts(db, HOT, HOT_VERSIONS, new Date(now.getTime() - 10_000), now, opts),
  },
];

/** Median of 3 runs of `each` looks (after one to warm up), per look. */
async function median(f: () => Promise<unknown>, each = 5): Promise<number> {
  const runs: number[] = [];
  await f(); // warm
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    for (let i = 0; i < each; i++) await f();
    runs.push((performance.now() - t0) / each);
  }
  runs.sort((a, b) => a - b);
  return runs[1]!;
}

async function openStore(name: string): Promise<{ db: Db; cleanup(): Promise<void> }> {
  if (name === "pglite") {
    const db = await openPglite();
    await migrate(db);
    return { db, cleanup: () => db.close() };
  }
  const url = process.env.MODELGOV_BENCH_DATABASE_URL ?? DEFAULT_PG_URL;
  const tmp = await createThrowawayDatabase(url, "modelgov_bench");
  const db = openPostgres(tmp.url, { max: 4 });
  await migrate(db);
  return {
    db,
    cleanup: async () => {
      await db.close();
      await tmp.drop();
    },
  };
}

const fmt = (ms: number) => (ms >= 100 ? `${Math.round(ms).toLocaleString()} ms` : `${ms.toFixed(1)} ms`);

async function bytes(db: Db, like: string): Promise<number> {
  const [r] = await db.query<{ b: string }>(
    `SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0)::bigint AS b FROM pg_class c
      WHERE c.relkind = 'r' AND c.relname ~ $1`,
    [like],
  );
  return Number(r?.b ?? 0);
}

async function main() {
  const results: Record<string, unknown>[] = [];
  const end = new Date(Date.UTC(2026, 11, 1, 12, 0, 0));
  for (const storeName of STORES) {
    for (const size of SIZES) {
      if (storeName === "pglite" && size > PGLITE_MAX) continue;
      const store = await openStore(storeName);
      try {
        const t0 = performance.now();
        await fillSynthetic(store.db, {
          rows: size,
          end,
          onProgress: (n) =>
            process.stderr.write(`\r${storeName} ${size.toLocaleString()}: ${n.toLocaleString()} rows`),
        });
        await rebuildRollups(store.db);
        if (storeName === "postgres") await store.db.query("VACUUM ANALYZE");
        process.stderr.write(` (${Math.round((performance.now() - t0) / 1000)} s to fill and sum)\n`);
        const now = new Date(end.getTime() - 1);
        for (const look of LOOKS) {
          const rolled = await median(() => look.run(store.db, now, {}));
          const raw = /^(dependents|shadow)/.test(look.name)
            ? null
            : await median(() => look.run(store.db, now, { raw: true }));
          results.push({ store: storeName, rows: size, look: look.name, rollupMs: rolled, rawMs: raw });
        }
        const rawBytes = await bytes(store.db, "^(request_log|feedback)_p");
        const rollupBytes = await bytes(
          store.db,
          "^(request_rollup|request_group_rollup|request_rollup_hour|request_group_rollup_hour|request_feature_rollup_hour|client_rollup)$",
        );
        results.push({
          store: storeName,
          rows: size,
          rawBytesPerRequest: rawBytes / size,
          rollupBytesPerDay: rollupBytes / 30,
        });
      } finally {
        await store.cleanup();
      }
    }
  }
  const table = new Table({
    head: ["store", "look", ...SIZES.map((s) => `${s.toLocaleString()} rows: roll-ups / raw`)],
    style: { head: [], border: [] },
  });
  for (const storeName of STORES)
    for (const look of LOOKS) {
      const cells = SIZES.map((s) => {
        const r = results.find((x) => x.store === storeName && x.rows === s && x.look === look.name) as
          | { rollupMs: number; rawMs: number | null }
          | undefined;
        return r ? `${fmt(r.rollupMs)} / ${r.rawMs === null ? "-" : fmt(r.rawMs)}` : "-";
      });
      table.push([storeName, look.name, ...cells]);
    }
  console.log(table.toString());
  for (const r of results.filter((x) => "rawBytesPerRequest" in x)) {
    const perReq = r.rawBytesPerRequest as number;
    const perDay = r.rollupBytesPerDay as number;
    console.log(
      `${r.store} ${Number(r.rows).toLocaleString()} rows: raw ${Math.round(perReq)} B per request with feedback and indexes ` +
        `(${((perReq * 86_400_000) / 1e9).toFixed(1)} GB a day at 1,000 req/s); roll-ups ${(perDay / 1e6).toFixed(1)} MB a day`,
    );
  }
  const dir = new URL("./results/", import.meta.url);
  await mkdir(dir, { recursive: true });
  await writeFile(
    new URL("windows.json", dir),
    `${JSON.stringify({ at: new Date().toISOString(), machine: { cpus: os.cpus().length, node: process.version }, results }, null, 2)}\n`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
