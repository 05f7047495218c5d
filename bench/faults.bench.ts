import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Table from "cli-table3";
import { openPostgres } from "../src/store/db.ts";
import { createThrowawayDatabase } from "../src/store/throwaway.ts";
import type { ServeChild } from "../src/test-support/serve-child.ts";
import { startTcpCut } from "../src/test-support/tcp-cut.ts";
import { KINDS, type RoundPlan, type RoundResult, runRound, type StoreUnderTest } from "./faults/round.ts";

/**
 * Fault runs against the real server (`modelgov serve`, its own process, simulator provider):
 *   - kill -9 under load, on the embedded store and on PostgreSQL: per round, the gateway
 *     requests, control-plane writes (a model each) and feedback that were acknowledged, and
 *     how many of them are missing once the store is opened again and the spool replayed;
 *   - SIGTERM under load: how long the exit takes, and the same count (the budget is 0);
 *   - a database outage on PostgreSQL (a TCP proxy in front of it, cut for a few seconds,
 *     refused and then hanging): 5xx by kind, 503s with Retry-After, and losses after recovery.
 *
 *   npm run bench:faults                # the full run (about 10 minutes)
 *   npm run bench:faults -- --quick     # fewer, shorter rounds (a couple of minutes)
 *   npm run bench:faults -- --no-pg     # the embedded store only
 *
 * PostgreSQL: BENCH_FAULTS_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test when it
 * answers; every run uses its own throwaway database there, dropped at the end. Everything
 * listens on and talks to 127.0.0.1; every server started is stopped by PID. Results go to
 * bench/results/faults.json.
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const QUICK = process.argv.includes("--quick");
const NO_PG = process.argv.includes("--no-pg");
/** `--only pglite|postgres|outage`: one group of scenarios. */
const ONLY = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
const run = (group: string) => !ONLY || ONLY === group;
const DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/test";
const PLAN = QUICK
  ? { kill9: 2, sigterm: 1, loadMs: [1_500, 3_000], outages: [{ how: "refuse", ms: 3_000 }] as const }
  : {
      kill9: 6,
      sigterm: 2,
      loadMs: [2_000, 6_000],
      outages: [
        { how: "refuse", ms: 5_000 },
        { how: "hang", ms: 5_000 },
      ] as const,
    };
const CONNECTIONS = { gateway: 8, controlPlane: 2, feedback: 2 };

// A fixed seed: the kill moments vary over the load window the same way on every run.
let seed = 0x5eed;
const rand = () => {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const loadMs = () => {
  const [lo = 0, hi = 0] = PLAN.loadMs;
  return Math.round(lo + rand() * (hi - lo));
};

const children = new Set<ServeChild>();
const killChildren = () => {
  for (const c of children)
    if (c.proc.exitCode === null && c.proc.signalCode === null)
      try {
        process.kill(c.pid, "SIGKILL");
      } catch {}
};
process.once("exit", killChildren);
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.once(sig, () => {
    killChildren();
    process.exit(130);
  });

async function postgresUrl(): Promise<string | null> {
  if (NO_PG) return null;
  const url = process.env.BENCH_FAULTS_DATABASE_URL ?? DEFAULT_PG_URL;
  const host = new URL(url).hostname;
  if (host !== "127.0.0.1" && host !== "localhost") throw new Error(`loopback PostgreSQL only, not ${host}`);
  const probe = openPostgres(url, { max: 1 });
  try {
    await probe.ping();
    return url;
  } catch {
    return null;
  } finally {
    await probe.close();
  }
}

interface Scenario {
  name: string;
  store: "pglite" | "postgres";
  rounds: RoundResult[];
}

const newStore = (kind: "pglite" | "postgres", databaseUrl = ""): StoreUnderTest => ({
  kind,
  dataDir: mkdtempSync(path.join(os.tmpdir(), `modelgov-faults-${kind}-`)),
  serverDatabaseUrl: databaseUrl,
  ...(databaseUrl ? { verifyDatabaseUrl: databaseUrl } : {}),
  admin: `faults-admin-${randomBytes(12).toString("hex")}`,
});

async function rounds(
  store: StoreUnderTest,
  name: string,
  ends: RoundPlan["end"][],
  extra?: Partial<RoundPlan>,
) {
  const s: Scenario = { name, store: store.kind, rounds: [] };
  for (const [i, end] of ends.entries()) {
    const r = await runRound(
      store,
      { round: i + 1, end, loadMs: loadMs(), connections: CONNECTIONS, ...extra },
      children,
    );
    s.rounds.push(r);
    if (r.crashLog)
      console.log(`  the server exited by itself (${r.exitCode ?? r.exitSignal}):\n${r.crashLog.join("\n")}`);
    const k = r.kinds;
    console.log(
      `  ${name} round ${i + 1}: ${end}, load ${r.loadMs} ms, exit ${r.exitMs} ms; acknowledged/lost ` +
        KINDS.map((x) => `${x} ${k[x].acknowledged}/${k[x].lost}`).join(", ") +
        `; 5xx ${KINDS.map((x) => k[x].x5xx).join("/")}; replayed from spool ${r.replayedBySpool}` +
        (r.spoolDrainedMs !== undefined ? `; spool empty ${r.spoolDrainedMs} ms after recovery` : ""),
    );
  }
  return s;
}

async function main() {
  const started = Date.now();
  const scenarios: Scenario[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const killEnds = [...Array(PLAN.kill9).fill("kill9"), ...Array(PLAN.sigterm).fill("sigterm")];
  try {
    if (run("pglite")) {
      console.log(`bench:faults${QUICK ? " --quick" : ""}: embedded store (PGlite)`);
      const lite = newStore("pglite");
      cleanups.push(async () => rmSync(lite.dataDir, { recursive: true, force: true }));
      scenarios.push(await rounds(lite, "kill -9 / SIGTERM", killEnds));
    }

    const pgUrl = run("postgres") || run("outage") ? await postgresUrl() : null;
    if (!pgUrl) console.log("PostgreSQL: not reachable (or --no-pg); its scenarios are skipped");
    else {
      console.log(`PostgreSQL: throwaway databases on ${new URL(pgUrl).host}`);
      if (run("postgres")) {
        const db = await createThrowawayDatabase(pgUrl, "modelgov_faults");
        cleanups.push(() => db.drop());
        const pg = newStore("postgres", db.url);
        cleanups.push(async () => rmSync(pg.dataDir, { recursive: true, force: true }));
        scenarios.push(await rounds(pg, "kill -9 / SIGTERM", killEnds));
      }

      const odb = await createThrowawayDatabase(pgUrl, "modelgov_faults");
      cleanups.push(() => odb.drop());
      const target = new URL(odb.url);
      const proxy = await startTcpCut({ host: target.hostname, port: Number(target.port || 5432) });
      cleanups.push(() => proxy.close());
      const viaProxy = new URL(odb.url);
      viaProxy.port = String(proxy.port);
      const out: StoreUnderTest = {
        ...newStore("postgres", viaProxy.toString()),
        verifyDatabaseUrl: odb.url,
      };
      cleanups.push(async () => rmSync(out.dataDir, { recursive: true, force: true }));
      for (const o of run("outage") ? PLAN.outages : []) {
        const s = await rounds(out, `database outage (${o.how}, ${o.ms / 1000} s)`, ["outage"], {
          outage: { proxy, how: o.how, ms: o.ms },
        });
        scenarios.push(s);
      }
    }
  } finally {
    killChildren();
    for (const c of cleanups.reverse()) await c().catch((err) => console.error("cleanup:", err));
  }

  const table = new Table({
    head: [
      "scenario",
      "store",
      "rounds",
      "kind",
      "acknowledged",
      "lost",
      "5xx",
      "503+Retry-After",
      "no answer",
      "exit ms (max)",
    ],
    style: { head: [], border: [] },
  });
  const summary = [];
  for (const s of scenarios) {
    const byEnd = new Map<string, RoundResult[]>();
    for (const r of s.rounds) byEnd.set(r.end, [...(byEnd.get(r.end) ?? []), r]);
    for (const [end, rs] of byEnd) {
      const name = s.name.startsWith("database")
        ? s.name
        : end === "kill9"
          ? "kill -9 under load"
          : "SIGTERM under load";
      for (const k of KINDS) {
        const sum = (f: (r: RoundResult) => number) => rs.reduce((a, r) => a + f(r), 0);
        const row = {
          scenario: name,
          store: s.store,
          rounds: rs.length,
          kind: k,
          acknowledged: sum((r) => r.kinds[k].acknowledged),
          lost: sum((r) => r.kinds[k].lost),
          lostPerRoundMax: Math.max(...rs.map((r) => r.kinds[k].lost)),
          x5xx: sum((r) => r.kinds[k].x5xx),
          with503RetryAfter: sum((r) => r.kinds[k].with503RetryAfter),
          noAnswer: sum((r) => r.kinds[k].noAnswer),
          exitMsMax: Math.max(...rs.map((r) => r.exitMs)),
        };
        summary.push(row);
        table.push([
          row.scenario,
          row.store,
          row.rounds,
          row.kind,
          row.acknowledged,
          `${row.lost}${row.lost ? ` (≤${row.lostPerRoundMax}/round)` : ""}`,
          row.x5xx,
          row.with503RetryAfter,
          row.noAnswer,
          end === "kill9" ? "-" : row.exitMsMax,
        ]);
      }
    }
  }
  console.log(`\n${table.toString()}`);
  console.log(`(${Math.round((Date.now() - started) / 1000)} s)`);
  const dir = path.join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, "faults.json"),
    `${JSON.stringify(
      {
        at: new Date().toISOString(),
        quick: QUICK,
        node: process.version,
        cpus: os.cpus().length,
        loadavg: os.loadavg(),
        connections: CONNECTIONS,
        summary,
        scenarios,
      },
      null,
      2,
    )}\n`,
  );
  console.log("results: bench/results/faults.json");
}

await main();
