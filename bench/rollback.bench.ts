import { performance } from "node:perf_hooks";
import Table from "cli-table3";
import { systemContext } from "../src/http/context.ts";
import { systemClock } from "../src/lib/clock.ts";
import { createLogger } from "../src/lib/logger.ts";
import { createRoutingState, type RoutingState } from "../src/modules/gateway/index.ts";
import { createServices } from "../src/services.ts";
import { type Db, openPglite, openPostgres } from "../src/store/db.ts";
import { migrate } from "../src/store/migrate.ts";
import { createThrowawayDatabase } from "../src/store/throwaway.ts";
import { seedModel } from "../src/test-support/rollouts.ts";

/**
 * Time to roll back: from the start of the breaching evaluation (the controller's fast path
 * seeing the candidate's breaker open) until every replica's in-memory routing state sends
 * the candidate no traffic. Replicas are separate routing states, each with its own
 * connections and LISTEN (PostgreSQL), or in-process (PGlite). `npm run bench:rollback`;
 * BENCH_ROLLBACK_N rounds (default 30), BENCH_ROLLBACK_REPLICAS (default 3, PostgreSQL only).
 */

const N = Number(process.env.BENCH_ROLLBACK_N ?? 30);
const REPLICAS = Number(process.env.BENCH_ROLLBACK_REPLICAS ?? 3);
const PG_URL = process.env.MODELGOV_BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const logger = createLogger("silent");
const ctx = systemContext("bench", "bench");
const PLAN = {
  name: "bench",
  steps: [
    { weight: 10, durationMs: 3_600_000 },
    { weight: 100, durationMs: 3_600_000 },
  ],
  analysisIntervalMs: 60_000,
  minSamplePerArm: 100,
  failureLimit: 2,
  metrics: [{ kind: "error_rate" as const, max: 0.01 }],
  fastPath: { windowMs: 10_000, minRequests: 20 },
};

const candidateShare = (r: RoutingState) => {
  const split = r.current().models.get("rb")?.split;
  return split ? split.describe : "none";
};

/** Resolves when `pred` holds on the replica (checked on each of its state changes). */
function when(r: RoutingState, pred: () => boolean): Promise<number> {
  return new Promise((resolve) => {
    if (pred()) return resolve(performance.now());
    const timer = setInterval(() => pred() && done(), 2);
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      resolve(performance.now());
    };
    r.onChange(() => pred() && done());
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

async function run(name: string, primary: Db, replicaDbs: Db[]) {
  await migrate(primary);
  const services = createServices({ db: primary, clock: systemClock, logger });
  await seedModel({ services }, "rb"); // 1.0.0 in production; 1.1.0 and 1.2.0 approved
  const replicas = replicaDbs.map((db) =>
    createRoutingState({ db, logger, approvedIds: services.approvedIds, safetyIntervalMs: 60_000 }),
  );
  for (const r of replicas) await r.start();
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const started = await services.rollouts.start(ctx, "rb", "1.1.0", { plan: PLAN as never });
    await Promise.all(replicas.map((r) => when(r, () => candidateShare(r) !== "none")));
    const t0 = performance.now();
    const seen = replicas.map((r) => when(r, () => candidateShare(r) === "none"));
    const out = await services.rollouts.fastCheck(started.id, ctx, "open");
    if (!out?.rollback) throw new Error("the fast path did not roll back");
    const all = await Promise.all(seen);
    times.push(Math.max(...all) - t0);
  }
  for (const r of replicas) await r.stop();
  return { name, replicas: replicas.length, times };
}

async function main() {
  const rows: { name: string; replicas: number; times: number[] }[] = [];
  const lite = await openPglite();
  rows.push(await run("pglite (embedded, in-process)", lite, [lite]));
  await lite.close();

  const probe = openPostgres(PG_URL, { max: 1 });
  const reachable = await probe.ping().then(
    () => true,
    () => false,
  );
  await probe.close();
  if (reachable) {
    const tmp = await createThrowawayDatabase(PG_URL, "modelgov_bench");
    const primary = openPostgres(tmp.url, { max: 5 });
    const replicaDbs = Array.from({ length: REPLICAS }, () => openPostgres(tmp.url, { max: 2 }));
    try {
      rows.push(await run(`postgresql (${REPLICAS} replicas, LISTEN/NOTIFY)`, primary, replicaDbs));
    } finally {
      for (const d of [primary, ...replicaDbs]) await d.close();
      await tmp.drop();
    }
  } else console.log(`PostgreSQL not reachable at ${PG_URL}: measured the embedded store only`);

  const table = new Table({
    head: ["store", "replicas", "rounds", "p50 ms", "p99 ms", "max ms", "target"],
  });
  for (const r of rows) {
    const max = Math.max(...r.times);
    table.push([
      r.name,
      r.replicas,
      r.times.length,
      pct(r.times, 50).toFixed(1),
      pct(r.times, 99).toFixed(1),
      max.toFixed(1),
      max <= 1000 ? "≤ 1 s: met" : "≤ 1 s: MISSED",
    ]);
  }
  console.log(
    "bench:rollback — from the breaching evaluation's start to the candidate at 0 on every replica",
  );
  console.log(table.toString());
}

await main();
