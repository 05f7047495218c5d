import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Table from "cli-table3";
import { Registry } from "prom-client";
import { Client } from "undici";
import { createClient } from "../src/client/index.ts";
import { compileFlag, type EvaluationContext, FlagSet } from "../src/engines/flags/index.ts";
import { bulkAnswer, type FlagInput, registerFlagMetrics } from "../src/modules/flags/index.ts";
import { hermeticEnv, spawnServe, stopChild } from "../src/test-support/serve-child.ts";
import { busyTime, cpuUs, summarizeCpuProfile } from "./cpuprofile.ts";
import { quantile } from "./quantile.ts";

/*
 * Feature flags over OFREP (issue 19): what one `modelgov serve` answers on 127.0.0.1 with N
 * flags defined (10, 100, 500: booleans with targeting rules, strings with a 90/10 rollout,
 * numbers by plan, objects with a schedule and a 50/50 rollout), through undici keep-alive
 * connections each sending its next request as soon as its answer is in:
 *   - bulk: POST /ofrep/v1/evaluate/flags (every flag for one context), requests/s and
 *     p50/p95/p99, at 1 and 32 connections; then the same with If-None-Match carrying the
 *     ETag the server gave (the 304 an OFREP provider's poll gets while nothing changed);
 *   - single: POST /ofrep/v1/evaluate/flags/{key}.
 * Then in process, without HTTP: the engine's cost per flag evaluation (FlagSet.evaluate), the
 * counter's per evaluation (modelgov_flag_evaluations_total) and the bulk body's JSON and ETag.
 *
 *   npm run bench:flags
 *   BENCH_FLAGS_SECONDS=10 BENCH_FLAGS_COUNTS=10,100,500,2000 npm run bench:flags
 *   BENCH_FLAGS_SERVER_ENTRY=bench/dist-entry.mjs npm run bench:flags   # the build (npm run build first)
 *   npm run bench:flags -- --profile    # the server's CPU profile under bulk load, summarised
 *
 * The server runs the checkout's sources through tsx (bin/modelgov.js) with the embedded
 * PGlite store. Results: bench/results/flags.json.
 */

const SECONDS = Number(process.env.BENCH_FLAGS_SECONDS ?? 2);
const COUNTS = (process.env.BENCH_FLAGS_COUNTS ?? "10,100,500").split(",").map(Number);
const PROFILE = process.argv.includes("--profile");
const PROFILE_DIR = fileURLToPath(new URL("./results/profile-flags/", import.meta.url));
const CONNECTIONS = PROFILE ? [32] : [1, 32];
const ADMIN = `bench-admin-${createHash("sha256").update(String(Math.random())).digest("hex").slice(0, 24)}`;
const CONTEXT: EvaluationContext = { targetingKey: "user-4711", tenant: "acme", region: "eu", plan: "pro" };

/** Flag i of a realistic mix: the shapes a team keeps side by side. */
export function benchFlag(i: number): FlagInput {
  const key = `bench.flag-${String(i).padStart(4, "0")}`;
  const base = { key, description: "", enabled: true };
  switch (i % 4) {
    case 0:
      return {
        ...base,
        type: "boolean",
        variants: { on: true, off: false },
        defaultVariant: "off",
        rules: [
          { when: { tenant: { $in: ["internal", "beta-1", "beta-2", `t-${i}`] } }, variant: "on" },
          { when: { region: "us", plan: "enterprise" }, variant: "on" },
        ],
      };
    case 1:
      return {
        ...base,
        type: "string",
        variants: { control: "summariser-v1", treatment: "summariser-v2", internal: "summariser-v3" },
        defaultVariant: "control",
        rules: [
          { when: { tenant: "internal" }, variant: "internal" },
          {
            rollout: [
              { variant: "control", weight: 90 },
              { variant: "treatment", weight: 10 },
            ],
          },
        ],
      };
    case 2:
      return {
        ...base,
        type: "number",
        variants: { low: 256, mid: 1024, high: 4096 },
        defaultVariant: "low",
        rules: [
          { when: { plan: { $in: ["enterprise"] } }, variant: "high" },
          { when: { plan: "pro" }, variant: "mid" },
        ],
      };
    default:
      return {
        ...base,
        type: "object",
        variants: {
          a: { temperature: 0.2, maxTokens: 512, tools: ["search"] },
          b: { temperature: 0.7, maxTokens: 1024, tools: ["search", "code"] },
        },
        defaultVariant: "a",
        schedule: { onAt: "2020-01-01T00:00:00Z" },
        rules: [
          { when: { region: { $in: ["eu", "uk"] } }, variant: "a" },
          {
            rollout: [
              { variant: "a", weight: 50 },
              { variant: "b", weight: 50 },
            ],
          },
        ],
      };
  }
}

interface Run {
  requestsPerSec: number;
  p50Us: number;
  p95Us: number;
  p99Us: number;
  /** The server process's CPU time (every thread: PGlite's too) per request. */
  serverCpuUs: number | null;
  n: number;
  statuses: Record<number, number>;
}

/** `connections` keep-alive connections, each sending the next request as its answer arrives, for SECONDS. */
async function load(
  origin: string,
  pid: number,
  connections: number,
  request: { path: string; headers: Record<string, string>; body: string },
): Promise<Run> {
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  const until = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  const cpu0 = cpuUs(pid);
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const client = new Client(origin, { pipelining: 1, keepAliveTimeout: 60_000 });
      while (performance.now() < until) {
        const sent = performance.now();
        const r = await client.request({ method: "POST", ...request });
        await r.body.arrayBuffer();
        latencies.push((performance.now() - sent) * 1000);
        statuses[r.statusCode] = (statuses[r.statusCode] ?? 0) + 1;
      }
      await client.close();
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = cpuUs(pid);
  return {
    requestsPerSec: latencies.length / wall,
    p50Us: quantile(latencies, 0.5),
    p95Us: quantile(latencies, 0.95),
    p99Us: quantile(latencies, 0.99),
    serverCpuUs: cpu0 === null || cpu1 === null ? null : (cpu1 - cpu0) / latencies.length,
    n: latencies.length,
    statuses,
  };
}

/** ns per call of `f` over `n` calls, after a warm-up of the same size. */
function perCall(n: number, f: (i: number) => void): number {
  for (let i = 0; i < n; i++) f(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f(i);
  return ((performance.now() - t0) * 1e6) / n;
}

/** The in-process costs: engine per flag, counter per evaluation, the bulk body's JSON and ETag. */
function inProcess(counts: number[]) {
  const rows: Record<string, unknown>[] = [];
  const contexts: EvaluationContext[] = Array.from({ length: 1024 }, (_, i) => ({
    ...CONTEXT,
    targetingKey: `user-${i}`,
    tenant: i % 16 === 0 ? "internal" : "acme",
  }));
  for (const n of counts) {
    const set = new FlagSet(Array.from({ length: n }, (_, i) => compileFlag(benchFlag(i) as never)));
    const keys = [...set.keys()];
    const now = Date.now();
    const engineNs = perCall(200_000, (i) => {
      set.evaluate(keys[i % n]!, contexts[i & 1023]!, now);
    });
    const resolutions = keys.map((k) => set.evaluate(k, CONTEXT, now));
    const count = registerFlagMetrics(new Registry());
    const counterNs = perCall(200_000, (i) => count(resolutions[i % n]!, true));
    const bodyUs =
      perCall(Math.max(200, 200_000 / n), () => {
        bulkAnswer(resolutions);
      }) / 1000;
    rows.push({ flags: n, engineNs, counterNs, bodyUs });
  }
  return rows;
}

async function main() {
  const load0 = os.loadavg();
  if (PROFILE) rmSync(PROFILE_DIR, { recursive: true, force: true });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "modelgov-bench-flags-"));
  const entry = process.env.BENCH_FLAGS_SERVER_ENTRY;
  const server = await spawnServe({
    args: ["--no-demo", "--data-dir", dataDir],
    env: hermeticEnv({
      MODELGOV_ADMIN_TOKEN: ADMIN,
      MODELGOV_LOG_LEVEL: "info",
    }),
    ...(PROFILE ? { nodeArgs: ["--cpu-prof", "--cpu-prof-dir", PROFILE_DIR] } : {}),
    timeoutMs: 120_000,
    ...(entry ? { bin: entry } : {}),
  });
  const results: Record<string, unknown>[] = [];
  const table = new Table({
    head: [
      "flags",
      "request",
      "conns",
      "req/s",
      "p50 µs",
      "p95 µs",
      "p99 µs",
      "server CPU µs/req",
      "statuses",
    ],
  });
  try {
    const admin = createClient({ baseUrl: server.url, token: ADMIN });
    // An SDK's token: the agent role evaluates flags (and calls the gateway).
    const sdk = (await admin.tokens.create({ name: "bench-sdk", roles: ["agent"] })).token;
    const headers: Record<string, string> = {
      authorization: `Bearer ${sdk}`,
      "content-type": "application/json",
    };
    const body = JSON.stringify({ context: CONTEXT });
    let defined = 0;
    for (const n of COUNTS) {
      for (; defined < n; defined += 10)
        await Promise.all(
          Array.from({ length: Math.min(10, n - defined) }, (_, j) =>
            admin.flags.put(benchFlag(defined + j)),
          ),
        );
      const bulk = { path: "/ofrep/v1/evaluate/flags", headers, body };
      const first = await fetch(`${server.url}${bulk.path}`, { method: "POST", headers, body });
      const etag = first.headers.get("etag") ?? "";
      const got = ((await first.json()) as { flags: unknown[] }).flags.length;
      if (got !== n) throw new Error(`bulk answered ${got} flags, ${n} defined`);
      await load(server.url, server.pid, 32, bulk); // warm-up: the flags compiled, the JIT warm
      const cases: [string, typeof bulk][] = [
        ["bulk", bulk],
        ["bulk, If-None-Match (304)", { ...bulk, headers: { ...headers, "if-none-match": etag } }],
        ["single", { ...bulk, path: `/ofrep/v1/evaluate/flags/${benchFlag(1).key}` }],
      ];
      for (const [what, request] of PROFILE ? cases.slice(0, 1) : cases)
        for (const c of CONNECTIONS) {
          const r = await load(server.url, server.pid, c, request);
          results.push({ flags: n, request: what, connections: c, ...r });
          table.push([
            n,
            what,
            c,
            r.requestsPerSec.toFixed(0),
            r.p50Us.toFixed(0),
            r.p95Us.toFixed(0),
            r.p99Us.toFixed(0),
            r.serverCpuUs === null ? "—" : r.serverCpuUs.toFixed(0),
            Object.entries(r.statuses)
              .map(([s, k]) => `${s}×${k}`)
              .join(" "),
          ]);
        }
    }
  } finally {
    await stopChild(server);
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(table.toString());
  if (PROFILE) {
    // One profile per thread (tsx's loader runs in a worker): the busiest is the server's.
    const files = readdirSync(PROFILE_DIR).map((f) => path.join(PROFILE_DIR, f));
    const busiest = files.sort((a, b) => busyTime(b) - busyTime(a))[0];
    if (busiest) console.log(summarizeCpuProfile(busiest, 30));
    return;
  }
  const engine = inProcess(COUNTS);
  const t2 = new Table({
    head: ["flags", "engine ns/flag", "counter ns/evaluation", "bulk body + ETag µs (bulkAnswer)"],
  });
  for (const r of engine)
    t2.push([
      r.flags as number,
      (r.engineNs as number).toFixed(0),
      (r.counterNs as number).toFixed(0),
      (r.bodyUs as number).toFixed(1),
    ]);
  console.log(t2.toString());
  const load1 = os.loadavg();
  console.log(
    [
      `Measured: OFREP over HTTP/1.1 keep-alive against one modelgov serve (${process.env.BENCH_FLAGS_SERVER_ENTRY ?? "bin/modelgov.js, sources through tsx"}, embedded PGlite store) on 127.0.0.1,`,
      `the load generator in this process; ${SECONDS} s per row after a warm-up; context ${JSON.stringify(CONTEXT)}.`,
      "In process: FlagSet.evaluate per flag over 1,024 contexts; the counter callback the server counts each evaluation with; the bulk body and its ETag (bulkAnswer: the resolutions' JSON joined, sha256).",
      `Load average ${load0.map((x) => x.toFixed(1)).join(" ")} at the start, ${load1.map((x) => x.toFixed(1)).join(" ")} at the end; ${os.cpus().length} cores, node ${process.version}.`,
    ].join("\n"),
  );
  await mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await writeFile(
    new URL("./results/flags.json", import.meta.url),
    `${JSON.stringify({ at: new Date().toISOString(), seconds: SECONDS, loadavg: { start: load0, end: load1 }, cores: os.cpus().length, http: results, inProcess: engine }, null, 2)}\n`,
  );
}

await main();
