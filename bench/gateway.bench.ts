import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import autocannon, { type AutocannonResult } from "autocannon";
import Table from "cli-table3";
import { Client as HttpClient } from "undici";
import { createClient } from "../src/client/index.ts";
import { SECTION_KEYS } from "../src/modules/cards/index.ts";
import { createThrowawayDatabase } from "../src/store/throwaway.ts";
import { busyTime, cpuUs, summarizeCpuProfile } from "./cpuprofile.ts";

/**
 * Gateway overhead and throughput: the same small non-streaming chat request sent
 *   - direct to a loopback OpenAI-compatible upstream (bench/upstream.ts, its own process),
 *   - through modelgov's gateway (`modelgov serve`, its own process): sticky 90/10 split,
 *     fallback chain, breakers, request logging and metrics all on,
 *   - through @portkey-ai/gateway when it is installed (its own process),
 *   - and, as a reference floor, through a bare node:http → undici proxy (bench/bare-proxy.ts),
 * at 1 and at 50 connections (autocannon, pipelining 1), plus a sequential keep-alive loop
 * (undici, µs timing) for the added latency at one connection.
 *
 *   npm run bench:gateway                 # the whole comparison
 *   npm run bench:gateway -- --profile    # gateway only, 50 connections, server under --cpu-prof
 *                                         # (BENCH_GATEWAY_PROFILE_CONNECTIONS=1 for one connection)
 *
 * BENCH_GATEWAY_SECONDS (default 10) and BENCH_GATEWAY_SEQ_N (default 5000) shorten or
 * lengthen the runs. BENCH_GATEWAY_DATABASE_URL=postgres://… puts the server's store in a
 * throwaway database there instead of the embedded PGlite (a diagnostic, not the default);
 * The server measured is the build a deployment runs (`npm run build`, then dist/ through
 * bench/dist-entry.mjs, as the published bin does); BENCH_GATEWAY_FROM_SOURCE=1 runs the
 * checkout's sources through tsx instead, and BENCH_GATEWAY_SERVER_ENTRY=path/to/bin.mjs any
 * other entry. Everything listens on 127.0.0.1; every child is killed by PID at the end.
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RESULTS_DIR = path.join(ROOT, "bench", "results");
const PROFILE = process.argv.includes("--profile");
const PROFILE_DIR = path.join(RESULTS_DIR, "profile");
/** An entry with bin/modelgov.js's interface: by default the build's (see above). */
const SERVER_ENTRY =
  process.env.BENCH_GATEWAY_SERVER_ENTRY ??
  (process.env.BENCH_GATEWAY_FROM_SOURCE === "1" ? "bin/modelgov.js" : "bench/dist-entry.mjs");
const MEASURE_S = Number(process.env.BENCH_GATEWAY_SECONDS ?? 10);
const WARMUP_S = 2;
const CONNECTIONS = PROFILE ? [Number(process.env.BENCH_GATEWAY_PROFILE_CONNECTIONS ?? 50)] : [1, 50];
const SEQ_N = Number(process.env.BENCH_GATEWAY_SEQ_N ?? 5000);
const SEQ_ROUNDS = 5;
/** Extra interleaved gateway/portkey rounds at 50 connections for the ratio (0 turns them off). */
const RATIO_ROUNDS = Number(process.env.BENCH_GATEWAY_RATIO_ROUNDS ?? 5);
const RATIO_S = Math.max(2, Math.round(MEASURE_S / 2));
const SEQ_WARMUP = 500;
const SUBJECTS = 1000;
const ADMIN = `bench-admin-${randomBytes(16).toString("hex")}`;
const UPSTREAM_KEY = "sk-bench-upstream";
const MESSAGES = [
  { role: "system", content: "You are a helpful assistant." },
  { role: "user", content: "Say hello in one short sentence." },
];
const TARGETS = { 1: 0.3, 50: 5 } as const; // added p50 at 1 connection (ms); throughput ratio at 50
/** A rules or complexity router in front adds at most this at p50 (ms; issue 18). */
const ROUTER_ADDED_P50_MS = 0.05;
/** Issue 19: a route's flag adds at most 20 µs p50. */
const FLAG_ADDED_P50_MS = 0.02;
const CARD = {
  metadata: {},
  sections: Object.fromEntries(SECTION_KEYS.map((k) => [k, `${k.replaceAll("_", " ")}: benchmark fixture.`])),
  extraSections: [],
};

const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
};

// ------------------------------------------------------------------ child processes

interface Child {
  name: string;
  proc: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}
const children: Child[] = [];

/** Spawns a process, keeps its output lines, and resolves once `ready(line)` returns a value. */
function startChild<T>(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: (line: string) => T | undefined,
  opts: { ipc?: boolean; timeoutMs?: number } = {},
): Promise<{ child: Child; value: T }> {
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env,
    stdio: opts.ipc ? ["pipe", "pipe", "pipe", "ipc"] : ["pipe", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const child: Child = { name, proc, lines, exited };
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${opts.timeoutMs ?? 60_000} ms:\n${tail(lines)}`)),
      opts.timeoutMs ?? 60_000,
    );
    let done = false;
    const onLine = (line: string) => {
      lines.push(line);
      if (lines.length > 2000) lines.splice(0, 1000);
      if (done) return;
      const value = ready(line);
      if (value !== undefined) {
        done = true;
        clearTimeout(timer);
        resolve({ child, value });
      }
    };
    for (const stream of [proc.stdout!, proc.stderr!]) {
      let buf = "";
      stream.setEncoding("utf8");
      stream.on("data", (d: string) => {
        buf += d;
        for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    }
    void exited.then((code) => {
      if (done) return;
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready:\n${tail(lines)}`));
    });
  });
}

const loadavg = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");
const tail = (lines: string[]) => lines.slice(-30).join("\n");

/** SIGTERM by PID (a graceful close: the server flushes its request log, --cpu-prof writes), then SIGKILL. */
async function stopChild(c: Child, graceMs = 15_000): Promise<void> {
  const pid = c.proc.pid;
  if (pid === undefined || c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const timedOut = await Promise.race([c.exited.then(() => false), sleep(graceMs).then(() => true)]);
  if (timedOut && c.proc.exitCode === null && c.proc.signalCode === null) {
    console.error(`${c.name} (pid ${pid}) ignored SIGTERM for ${graceMs} ms; SIGKILL`);
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
    await c.exited;
  }
}

async function stopAll(): Promise<void> {
  for (const c of [...children].reverse()) await stopChild(c);
}

// Ctrl-C or a crash still ends every child, by PID.
let stopping = false;
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.once(sig, () => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${sig}: stopping children`);
    void stopAll().finally(() => process.exit(130));
  });
process.once("exit", () => {
  for (const c of children)
    if (c.proc.pid !== undefined && c.proc.exitCode === null && c.proc.signalCode === null)
      try {
        process.kill(c.proc.pid, "SIGKILL");
      } catch {}
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

// ------------------------------------------------------------------ the three targets

interface Target {
  name: "direct" | "bare" | "gateway" | "router-rules" | "router-complexity" | "flag" | "portkey";
  description: string;
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The process doing this target's work (the upstream itself for direct): its CPU per request is reported. */
  pid: number | undefined;
}

const chatBody = (model: string) => JSON.stringify({ model, messages: MESSAGES, max_tokens: 32 });

async function startUpstream() {
  const { child, value } = await startChild(
    "upstream",
    ["--import", "tsx", "bench/upstream.ts"],
    { ...process.env },
    (line) => {
      try {
        const m = JSON.parse(line) as { ready?: boolean; port: number; url: string };
        return m.ready ? m : undefined;
      } catch {
        return undefined;
      }
    },
    { ipc: true },
  );
  let waiting: ((n: number) => void) | null = null;
  child.proc.on("message", (m: { requests?: number }) => {
    if (typeof m?.requests === "number") waiting?.(m.requests);
  });
  /** How many API requests the upstream has received so far. */
  const count = () =>
    new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("upstream did not report its count")), 5000);
      waiting = (n) => {
        clearTimeout(t);
        waiting = null;
        resolve(n);
      };
      child.proc.send("requests");
    });
  return {
    child,
    pid: child.proc.pid,
    port: value.port,
    url: value.url,
    origin: `http://127.0.0.1:${value.port}`,
    count,
  };
}

/** The reference floor: a bare node:http → undici proxy (bench/bare-proxy.ts), its own process. */
async function startBareProxy(upstreamOrigin: string) {
  const { child, value } = await startChild(
    "bare-proxy",
    ["--import", "tsx", "bench/bare-proxy.ts", upstreamOrigin],
    { ...process.env },
    (line) => {
      try {
        const m = JSON.parse(line) as { ready?: boolean; port: number };
        return m.ready ? m.port : undefined;
      } catch {
        return undefined;
      }
    },
  );
  return { child, pid: child.proc.pid, origin: `http://127.0.0.1:${value}` };
}

/**
 * Opt-in (BENCH_GATEWAY_DATABASE_URL=postgres://…): the server keeps its store in a throwaway
 * database on that PostgreSQL server instead of the embedded PGlite, to see what the store
 * costs the gateway's process. Returns the database URL and a cleanup.
 */
async function throwawayPostgres(url: string) {
  const tmp = await createThrowawayDatabase(url, "modelgov_bench_gw");
  return { url: tmp.url, drop: () => tmp.drop().catch(() => {}) };
}

async function startModelgov(dataDir: string, databaseUrl = "") {
  // One profile per thread (tsx's loader runs in a worker); the summary picks the busiest.
  if (PROFILE) rmSync(PROFILE_DIR, { recursive: true, force: true });
  const nodeArgs = PROFILE ? ["--cpu-prof", "--cpu-prof-dir", PROFILE_DIR] : [];
  const { child, value } = await startChild(
    "modelgov",
    [...nodeArgs, SERVER_ENTRY, "serve", "--port", "0", "--no-demo", "--data-dir", dataDir],
    {
      ...process.env,
      DATABASE_URL: databaseUrl,
      MODELGOV_ADMIN_TOKEN: ADMIN,
      MODELGOV_EGRESS_ALLOW_HOSTS: "127.0.0.1",
      MODELGOV_GATEWAY_RATE_PER_SEC: "1000000",
      MODELGOV_GATEWAY_RATE_BURST: "1000000",
      // "modelgov listening" is an info line; nothing on the /v1 path logs below warn, and
      // the bench counts the lines the server writes while it is measured to prove it.
      MODELGOV_LOG_LEVEL: "info",
      BENCH_UPSTREAM_API_KEY: UPSTREAM_KEY,
    },
    (line) => {
      try {
        const m = JSON.parse(line) as { msg?: string; url?: string };
        return m.msg === "modelgov listening" ? m.url : undefined;
      } catch {
        return undefined;
      }
    },
    { timeoutMs: 120_000 },
  );
  return { child, url: value! };
}

/** The model, its two versions, approvals, production alias, the 90/10 sticky split with fallback, an agent token. */
async function setUpModelgov(url: string, upstreamUrl: string) {
  const admin = createClient({ baseUrl: url, token: ADMIN });
  const eng = (await admin.tokens.create({ name: "bench-engineer", roles: ["engineering"] })).token;
  const agent = (await admin.tokens.create({ name: "bench-agent", roles: ["agent"] })).token;
  await admin.models.create({ name: "chat", owner: "bench", riskTier: "low", useCases: ["support"] });
  for (const version of ["1.0.0", "1.1.0"])
    await admin.versions.register("chat", {
      version,
      provider: "openai-compatible",
      providerModelId: "gpt-fake",
      endpoint: upstreamUrl,
      parameters: { apiKeyEnv: "BENCH_UPSTREAM_API_KEY" },
      card: CARD,
    });
  const signer = createClient({ baseUrl: url, token: eng });
  for (const version of ["1.0.0", "1.1.0"]) {
    const r = await admin.approvals.request("chat", version, `bench ${version}`);
    await signer.approvals.sign(r.id, { role: "engineering", decision: "approve", comment: "bench" });
  }
  await admin.aliases.set("chat", "production", "1.0.0", "bench launch");
  // Routers in front of chat (issue 18): 1.0.0 by rules (five of them, none holding for the
  // bench's request, so all are evaluated), 2.0.0 by complexity; both tiers are chat's versions.
  await admin.models.create({ name: "routed", owner: "bench", riskTier: "low", useCases: ["support"] });
  const tiers = [
    { name: "cheap", target: "chat" },
    { name: "strong", target: "chat@1.1.0" },
  ];
  for (const [version, classifier] of [
    [
      "1.0.0",
      {
        kind: "rules",
        rules: [
          { when: { "metadata.tier": "enterprise" }, tier: "strong" },
          { when: { "features.tokens_in": { $gt: 2000 } }, tier: "strong" },
          { when: { "params.tools": { $exists: true } }, tier: "strong" },
          { when: { "features.script": { $in: ["cyrillic", "greek"] } }, tier: "strong" },
          { when: { "metadata.task": { $regex: "^(legal|medical)" } }, tier: "strong" },
        ],
        default: "cheap",
      },
    ],
    ["2.0.0", { kind: "complexity", thresholds: [0.5] }],
  ] as const) {
    await admin.versions.register("routed", {
      version,
      provider: "router",
      providerModelId: `bench-router-${version}`,
      parameters: { tiers, classifier },
      card: CARD,
    });
    const r = await admin.approvals.request("routed", version, `bench router ${version}`);
    await signer.approvals.sign(r.id, { role: "engineering", decision: "approve", comment: "bench" });
  }
  await admin.aliases.set("routed", "production", "1.0.0", "bench launch");
  await admin.aliases.set("routed", "complexity", "2.0.0", "bench");
  // A route deferring to a flag (issue 19): three rules, the request matching none of the first
  // two (a tenant, a region with a tier), then a 90/10 rollout on the request's user.
  await admin.models.create({ name: "flagged", owner: "bench", riskTier: "low", useCases: ["support"] });
  for (const version of ["1.0.0", "1.1.0"]) {
    await admin.versions.register("flagged", {
      version,
      provider: "openai-compatible",
      providerModelId: "gpt-fake",
      endpoint: upstreamUrl,
      parameters: { apiKeyEnv: "BENCH_UPSTREAM_API_KEY" },
      card: CARD,
    });
    const r = await admin.approvals.request("flagged", version, `bench flag ${version}`);
    await signer.approvals.sign(r.id, { role: "engineering", decision: "approve", comment: "bench" });
  }
  await admin.aliases.set("flagged", "production", "1.0.0", "bench launch");
  await admin.aliases.set("flagged", "canary", "1.1.0", "bench");
  await admin.flags.put({
    key: "flagged.version",
    type: "string",
    variants: { canary: "flagged@canary", eu: "flagged@1.0.0", production: "flagged@production" },
    defaultVariant: "production",
    rules: [
      { when: { tenant: "internal" }, variant: "canary" },
      { when: { region: "eu", tier: "enterprise" }, variant: "eu" },
      {
        rollout: [
          { variant: "production", weight: 90 },
          { variant: "canary", weight: 10 },
        ],
      },
    ],
  });
  await admin.routes.set("flagged", { fallback: ["1.0.0"], flag: "flagged.version" });
  await admin.routes.set("chat", {
    split: [
      { version: "1.0.0", weight: 90 },
      { version: "1.1.0", weight: 10 },
    ],
    fallback: ["1.0.0", "1.1.0"],
    allowPinning: false,
    breaker: { windowSize: 100, minimumCalls: 20, failureRatePct: 50, openMs: 10_000 },
    prices: {
      "1.0.0": { inputPer1kUsd: 0.5, outputPer1kUsd: 1.5 },
      "1.1.0": { inputPer1kUsd: 0.4, outputPer1kUsd: 1.2 },
    },
  });
  return { admin, agent };
}

function portkeyEntry(): string | null {
  const dir = path.join(ROOT, "node_modules", "@portkey-ai", "gateway");
  if (!existsSync(path.join(dir, "package.json"))) return null;
  const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
    version: string;
    bin?: string | Record<string, string>;
  };
  const bin = typeof pkg.bin === "string" ? pkg.bin : Object.values(pkg.bin ?? {})[0];
  if (!bin) throw new Error("@portkey-ai/gateway is installed but its package.json names no bin");
  return `${path.join(dir, bin)}@${pkg.version}`;
}

async function startPortkey(entryAt: string) {
  const at = entryAt.lastIndexOf("@");
  const entry = entryAt.slice(0, at);
  const version = entryAt.slice(at + 1);
  const port = await freePort();
  // start-server listens on every interface with no option for the host: the preload binds it to 127.0.0.1.
  const args = ["--import", "./bench/loopback-only.mjs", entry, `--port=${port}`, "--headless"];
  const { child } = await startChild("portkey", args, { ...process.env, NODE_ENV: "production" }, (line) =>
    /Ready for connections/.test(line) ? true : undefined,
  );
  return { child, port, version, origin: `http://127.0.0.1:${port}`, command: `node ${args.join(" ")}` };
}

// ------------------------------------------------------------------ measurements

interface LoadResult {
  connections: number;
  seconds: number;
  requestsPerSec: number;
  total: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  upstreamRequests: number;
  /** CPU (user+system) the target's own process spent per answered request: the proxy, or the upstream for direct. */
  cpuUsPerReq: number | null;
  /** The same for the upstream process (same work whatever the path, a sanity check). */
  upstreamCpuUsPerReq: number | null;
  /** Share of one core the load generator (this process: autocannon) used. */
  loadgenCpuPct: number;
}

interface SeqResult {
  n: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  meanUs: number;
  errors: number;
}

let subjectSeq = 0;
const nextSubject = () => `user-${subjectSeq++ % SUBJECTS}`;

function autocannonRequest(t: Target) {
  return {
    method: "POST",
    path: t.path,
    headers: t.headers,
    body: t.body,
    // A different subject on each request (1,000 of them, cycled): the sticky split hashes each one.
    setupRequest: (req: { headers?: Record<string, string> }) => ({
      ...req,
      headers: { ...req.headers, "x-modelgov-subject": nextSubject() },
    }),
  };
}

/** The upstream's count once it stops moving (requests cut off by the previous run have all arrived). */
async function settled(count: () => Promise<number>): Promise<number> {
  let last = await count();
  for (let i = 0; i < 30; i++) {
    await sleep(100);
    const n = await count();
    if (n === last) return n;
    last = n;
  }
  return last;
}

/** CPU time (user + system, µs) a process has used so far, from /proc; null where there is no /proc. */
async function load(
  t: Target,
  connections: number,
  seconds: number,
  upstream: { count: () => Promise<number>; pid: number | undefined },
): Promise<LoadResult> {
  const upstreamCount = upstream.count;
  const before = await settled(upstreamCount);
  const cpu0 = [cpuUs(t.pid), cpuUs(upstream.pid), process.cpuUsage(), performance.now()] as const;
  const r: AutocannonResult = await autocannon({
    url: t.origin,
    connections,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
    requests: [autocannonRequest(t)],
  });
  countAnswered(t, r.requests.total);
  // Requests still in flight when autocannon stopped reach the upstream a little later.
  const after = await settled(upstreamCount);
  const own = cpuUs(t.pid);
  const up = cpuUs(upstream.pid);
  const gen = process.cpuUsage(cpu0[2]);
  const wallUs = (performance.now() - cpu0[3]) * 1000;
  const perReq = (a: number | null, b: number | null) =>
    a === null || b === null || r.requests.total === 0 ? null : Math.round((a - b) / r.requests.total);
  return {
    connections,
    seconds,
    requestsPerSec: r.requests.average,
    total: r.requests.total,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    upstreamRequests: after - before,
    cpuUsPerReq: perReq(own, cpu0[0]),
    upstreamCpuUsPerReq: perReq(up, cpu0[1]),
    loadgenCpuPct: Math.round(((gen.user + gen.system) / wallUs) * 100),
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

/** One keep-alive connection, one request at a time, each timed with hrtime (send → whole body read). */
function sequentialRunner(t: Target) {
  const client = new HttpClient(t.origin, { pipelining: 1, keepAliveTimeout: 60_000 });
  const samples: number[] = [];
  let errors = 0;
  async function run(n: number, keep: boolean) {
    for (let i = 0; i < n; i++) {
      const headers = { ...t.headers, "x-modelgov-subject": nextSubject() };
      const start = process.hrtime.bigint();
      const res = await client.request({ method: "POST", path: t.path, headers, body: t.body });
      await res.body.text();
      countAnswered(t, 1);
      const us = Number(process.hrtime.bigint() - start) / 1000;
      if (res.statusCode !== 200) errors++;
      if (keep) samples.push(us);
    }
  }
  return {
    warm: () => run(SEQ_WARMUP, false),
    run: (n: number) => run(n, true),
    result(): SeqResult {
      const s = [...samples].sort((a, b) => a - b);
      const r1 = (x: number) => Math.round(x * 10) / 10;
      return {
        n: s.length,
        p50Us: r1(percentile(s, 50)),
        p90Us: r1(percentile(s, 90)),
        p99Us: r1(percentile(s, 99)),
        meanUs: r1(s.reduce((a, b) => a + b, 0) / s.length),
        errors,
      };
    },
    close: () => client.close(),
  };
}

/** Requests answered per target, warm-ups and checks included (the request log must hold the gateway's). */
const answered: Record<string, number> = {};
const countAnswered = (t: Target, n: number) => {
  answered[t.name] = (answered[t.name] ?? 0) + n;
};

/** Sends one request and returns status, headers and parsed body. */
async function once(t: Target, subject: string) {
  countAnswered(t, 1);
  const res = await fetch(`${t.origin}${t.path}`, {
    method: "POST",
    headers: { ...t.headers, "x-modelgov-subject": subject },
    body: t.body,
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** The gateway serves through the split once routing has picked up the route change (NOTIFY or 5 s poll). */
async function waitForSplit(gw: Target) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = await once(gw, "user-probe");
    const route = r.headers.get("x-modelgov-route") ?? "";
    if (r.status === 200 && route.startsWith("split:90/10")) return route;
    if (Date.now() > deadline)
      throw new Error(`the gateway does not route through the split: ${r.status} route=${route} ${r.text}`);
    await sleep(200);
  }
}

/** Every subject keeps its version; about 10% land on 1.1.0. */
async function checkStickySplit(gw: Target) {
  const first = new Map<string, string>();
  for (let i = 0; i < SUBJECTS; i++) {
    const subject = `user-${i}`;
    const r = await once(gw, subject);
    if (r.status !== 200) throw new Error(`gateway answered ${r.status}: ${r.text}`);
    first.set(subject, r.headers.get("x-modelgov-model-version") ?? "?");
  }
  let moved = 0;
  for (let i = 0; i < SUBJECTS; i += 10) {
    const r = await once(gw, `user-${i}`);
    if (r.headers.get("x-modelgov-model-version") !== first.get(`user-${i}`)) moved++;
  }
  const canary = [...first.values()].filter((v) => v === "chat@1.1.0").length;
  if (moved > 0)
    throw new Error(`the split is not sticky: ${moved} of ${SUBJECTS / 10} subjects changed version`);
  return { subjects: SUBJECTS, canaryShare: canary / SUBJECTS, rechecked: SUBJECTS / 10, moved };
}

/** Portkey must really reach the fake upstream (and exactly once per request) before it is measured. */
async function checkPortkey(pk: Target, upstreamCount: () => Promise<number>) {
  const before = await upstreamCount();
  const r = await once(pk, "user-probe");
  const after = await upstreamCount();
  const content = (r.body as { choices?: { message?: { content?: string } }[] })?.choices?.[0]?.message
    ?.content;
  if (r.status !== 200 || after - before !== 1 || !String(content).includes("fake-openai"))
    throw new Error(
      `Portkey did not proxy to the fake upstream: status ${r.status}, upstream requests +${after - before}, body ${r.text.slice(0, 300)}`,
    );
  return { status: r.status, upstreamDelta: after - before, content };
}

// ------------------------------------------------------------------ report

const LABEL: Record<string, string> = {
  direct: "direct",
  bare: "bare node proxy (ref.)",
  gateway: "modelgov gateway",
  "router-rules": "gateway + rules router",
  "router-complexity": "gateway + complexity router",
  flag: "gateway + a route's flag",
};

/** autocannon records whole milliseconds: 0 means "under one". */
const ms = (x: number) => (x < 1 ? "<1" : String(x));
const fmt = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined || Number.isNaN(x) ? "—" : x.toFixed(digits);

function checkClean(name: string, r: LoadResult, failures: string[]) {
  const bad = r.errors + r.timeouts + r.non2xx;
  if (bad > 0)
    failures.push(
      `${name} @${r.connections}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx of ${r.total}`,
    );
  // Every answered request reached the upstream exactly once (no cache, no hidden retries);
  // up to `connections` more may have been in flight when the run stopped.
  if (r.upstreamRequests < r.total || r.upstreamRequests > r.total + r.connections)
    failures.push(
      `${name} @${r.connections}: ${r.total} answered but the upstream saw ${r.upstreamRequests}`,
    );
}

// ------------------------------------------------------------------ main

async function main() {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "modelgov-bench-gw-"));
  const failures: string[] = [];
  let pg: Awaited<ReturnType<typeof throwawayPostgres>> | null = null;
  try {
    console.log(
      `bench:gateway — load average ${loadavg()}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), node ${process.version}; ` +
        `warm-up ${WARMUP_S} s, ${MEASURE_S} s per run, connections ${CONNECTIONS.join(" and ")}${PROFILE ? ", PROFILE MODE" : ""}`,
    );
    if (SERVER_ENTRY === "bench/dist-entry.mjs") {
      const t0 = performance.now();
      const built = spawnSync("npm", ["run", "-s", "build"], { cwd: ROOT, stdio: "inherit" });
      if (built.status !== 0) throw new Error("npm run build failed");
      console.log(
        `build      npm run build (${((performance.now() - t0) / 1000).toFixed(1)} s); serving dist/`,
      );
    }
    const upstream = await startUpstream();
    console.log(`upstream   fake-openai pid ${upstream.child.proc.pid} at ${upstream.url}`);
    const bare = PROFILE ? null : await startBareProxy(upstream.origin);
    if (bare)
      console.log(
        `bare proxy pid ${bare.pid} at ${bare.origin} (reference: node:http → undici, nothing else)`,
      );
    if (process.env.BENCH_GATEWAY_DATABASE_URL) {
      pg = await throwawayPostgres(process.env.BENCH_GATEWAY_DATABASE_URL);
      console.log("store      PostgreSQL (BENCH_GATEWAY_DATABASE_URL), a throwaway database");
    }
    const server = await startModelgov(dataDir, pg?.url);
    console.log(`modelgov   pid ${server.child.proc.pid} at ${server.url} (${SERVER_ENTRY})`);
    const { admin, agent } = await setUpModelgov(server.url, upstream.url);

    const direct: Target = {
      name: "direct",
      description: "direct to the loopback upstream",
      origin: upstream.origin,
      path: "/v1/chat/completions",
      headers: { "content-type": "application/json", authorization: `Bearer ${UPSTREAM_KEY}` },
      body: chatBody("gpt-fake"),
      pid: upstream.pid,
    };
    const bareProxy: Target | null = bare
      ? {
          ...direct,
          name: "bare",
          description: "bare node:http → undici proxy (reference)",
          origin: bare.origin,
          pid: bare.pid,
        }
      : null;
    const gateway: Target = {
      name: "gateway",
      description: "modelgov gateway: split 90/10 sticky, fallback, breakers, request log",
      origin: server.url,
      path: "/v1/chat/completions",
      headers: { "content-type": "application/json", authorization: `Bearer ${agent}` },
      body: chatBody("chat"),
      pid: server.child.proc.pid,
    };
    // The same gateway with a router version in front of chat.
    const routerRules: Target = {
      ...gateway,
      name: "router-rules",
      description: "modelgov gateway through a rules router (5 rules) to chat's production",
      body: chatBody("routed"),
    };
    const routerComplexity: Target = {
      ...gateway,
      name: "router-complexity",
      description: "modelgov gateway through a complexity router to chat's production",
      body: chatBody("routed@complexity"),
    };
    // The same gateway, the version chosen by a route's flag from the request's context.
    const flagged: Target = {
      ...gateway,
      name: "flag",
      description: "modelgov gateway, the version picked by a route's flag (3 rules, 90/10 rollout)",
      headers: { ...gateway.headers, "x-modelgov-context-region": "us" },
      body: JSON.stringify({
        model: "flagged",
        messages: MESSAGES,
        max_tokens: 32,
        user: "bench-user-7",
        metadata: { tenant: "acme", tier: "free" },
      }),
    };
    const route = await waitForSplit(gateway);
    const sticky = await checkStickySplit(gateway);
    console.log(
      `gateway    route "${route}"; sticky over ${sticky.subjects} subjects, ${(sticky.canaryShare * 100).toFixed(1)}% on 1.1.0`,
    );

    type PortkeyTarget = Target & { version: string; command: string };
    let portkey = null as PortkeyTarget | null;
    const entry = PROFILE ? null : portkeyEntry();
    let portkeyCheck: Awaited<ReturnType<typeof checkPortkey>> | null = null;
    if (!entry) console.log(`portkey    ${PROFILE ? "skipped in profile mode" : "not installed, skipped"}`);
    else
      try {
        const pk = await startPortkey(entry);
        const candidate: PortkeyTarget = {
          name: "portkey",
          description: `@portkey-ai/gateway ${pk.version}`,
          origin: pk.origin,
          path: "/v1/chat/completions",
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${UPSTREAM_KEY}`,
            "x-portkey-provider": "openai",
            "x-portkey-custom-host": upstream.url,
          },
          body: chatBody("gpt-fake"),
          pid: pk.child.proc.pid,
          version: pk.version,
          command: pk.command,
        };
        portkeyCheck = await checkPortkey(candidate, upstream.count);
        portkey = candidate;
        console.log(
          `portkey    ${pk.version} pid ${pk.child.proc.pid} at ${pk.origin} (verified: reaches the fake upstream)`,
        );
      } catch (err) {
        // Installed but not working: the rest is still measured, and the run fails at the end.
        failures.push(`portkey is installed but could not be measured: ${(err as Error).message}`);
        console.log(`portkey    installed but FAILED to start or to reach the upstream (see the end)`);
      }

    const targets = PROFILE
      ? [gateway]
      : [
          direct,
          ...(bareProxy ? [bareProxy] : []),
          gateway,
          routerRules,
          routerComplexity,
          flagged,
          ...(portkey ? [portkey] : []),
        ];
    const loads: Record<string, LoadResult[]> = {};
    let serverLinesWhileMeasured = 0;
    const serverLinesSample: string[] = [];
    for (const t of targets) {
      process.stdout.write(`${t.name.padEnd(10)} warm-up`);
      const warm = await autocannon({
        url: t.origin,
        connections: 10,
        pipelining: 1,
        duration: WARMUP_S,
        requests: [autocannonRequest(t)],
      });
      countAnswered(t, warm.requests.total);
      if (warm.errors + warm.timeouts + warm.non2xx > 0)
        failures.push(
          `${t.name} warm-up: ${warm.errors} errors, ${warm.timeouts} timeouts, ${warm.non2xx} non-2xx`,
        );
      loads[t.name] = [];
      for (const c of CONNECTIONS) {
        const linesBefore = server.child.lines.length;
        process.stdout.write(` · ${c} conn`);
        const r = await load(t, c, MEASURE_S, upstream);
        if (t.name === "gateway") {
          serverLinesWhileMeasured += server.child.lines.length - linesBefore;
          serverLinesSample.push(
            ...server.child.lines.slice(linesBefore).slice(0, 5 - serverLinesSample.length),
          );
        }
        checkClean(t.name, r, failures);
        loads[t.name]!.push(r);
        process.stdout.write(` ${Math.round(r.requestsPerSec)} req/s`);
        await sleep(500);
      }
      process.stdout.write("\n");
    }

    // The throughput ratio to Portkey once more, in interleaved rounds (gateway, portkey, gateway,
    // …), so that a machine whose speed drifts during the run affects both sides alike.
    const ratioRounds: number[] = [];
    const gatewayTarget = targets.find((t) => t.name === "gateway");
    const portkeyTarget = targets.find((t) => t.name === "portkey");
    if (!PROFILE && gatewayTarget && portkeyTarget && RATIO_ROUNDS > 0) {
      process.stdout.write(`ratio      ${RATIO_ROUNDS} interleaved rounds of ${RATIO_S} s at 50 conn:`);
      for (let round = 0; round < RATIO_ROUNDS; round++) {
        const g = await load(gatewayTarget, 50, RATIO_S, upstream);
        await sleep(300);
        const p = await load(portkeyTarget, 50, RATIO_S, upstream);
        await sleep(300);
        checkClean("gateway", g, failures);
        checkClean("portkey", p, failures);
        ratioRounds.push(g.requestsPerSec / p.requestsPerSec);
        process.stdout.write(` ${(g.requestsPerSec / p.requestsPerSec).toFixed(2)}×`);
      }
      process.stdout.write("\n");
    }

    // Sequential keep-alive loops, interleaved in rounds so drift hits every target alike.
    const seqTargets = PROFILE ? [] : targets;
    const runners = new Map(seqTargets.map((t) => [t.name, sequentialRunner(t)]));
    if (seqTargets.length) {
      process.stdout.write(`sequential ${SEQ_N} requests per target, ${SEQ_ROUNDS} interleaved rounds`);
      for (const r of runners.values()) await r.warm();
      for (let round = 0; round < SEQ_ROUNDS; round++)
        for (const r of runners.values()) {
          await r.run(Math.ceil(SEQ_N / SEQ_ROUNDS));
          process.stdout.write(".");
        }
      process.stdout.write("\n");
    }
    const seq: Record<string, SeqResult> = {};
    for (const [name, r] of runners) {
      seq[name] = r.result();
      await r.close();
      if (seq[name]!.errors > 0) failures.push(`${name} sequential: ${seq[name]!.errors} non-200 answers`);
    }

    // The request log keeps up: every gateway request is in it once the writer has flushed.
    let logged = 0;
    for (let i = 0; i < 50; i++) {
      await sleep(200);
      const d = await admin.dependents("chat", "1h");
      if (d.totals.requests === logged && i > 2) break;
      logged = d.totals.requests;
    }
    const deps = await admin.dependents("chat", "1h");

    // ---------------------------------------------------------------- print
    const at = (name: string, c: number) => loads[name]?.find((r) => r.connections === c);
    const table = new Table({
      style: { head: [], border: [] },
      head: [
        "target",
        "conns",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors/non-2xx",
        "seq p50 µs",
        "seq p99 µs",
        "CPU µs/req",
        "loadgen CPU",
      ],
      colAligns: ["left", "right", "right", "right", "right", "right", "right", "right", "right", "right"],
    });
    for (const t of targets)
      for (const r of loads[t.name]!) {
        const s = r.connections === 1 ? seq[t.name] : undefined;
        table.push([
          LABEL[t.name] ?? `portkey ${portkey?.version}`,
          r.connections,
          Math.round(r.requestsPerSec).toLocaleString("en-US"),
          ms(r.p50Ms),
          ms(r.p99Ms),
          `${r.errors + r.timeouts}/${r.non2xx}`,
          s ? fmt(s.p50Us, 1) : "",
          s ? fmt(s.p99Us, 1) : "",
          r.cpuUsPerReq === null ? "—" : String(r.cpuUsPerReq),
          `${r.loadgenCpuPct}%`,
        ]);
      }
    if (!portkey && !PROFILE)
      table.push(["portkey", "—", "not installed, skipped", "", "", "", "", "", "", ""]);
    console.log(table.toString());
    console.log(
      "  req/s: autocannon's per-second average; p50/p99: autocannon, whole ms (<1 = under a millisecond);\n" +
        `  seq: ${SEQ_N} sequential requests on one keep-alive undici connection, hrtime per request (µs);\n` +
        "  CPU µs/req: user+system CPU of the target's own process (the upstream for direct, the proxy otherwise)\n" +
        "  per answered request, from /proc; loadgen CPU: autocannon's process, in % of one core.",
    );

    const addedSeqP50Ms =
      seq.gateway && seq.direct ? Math.round(seq.gateway.p50Us - seq.direct.p50Us) / 1000 : null;
    const addedSeqP99Ms =
      seq.gateway && seq.direct ? Math.round(seq.gateway.p99Us - seq.direct.p99Us) / 1000 : null;
    const addedAcP50Ms =
      at("gateway", 1) && at("direct", 1) ? at("gateway", 1)!.p50Ms - at("direct", 1)!.p50Ms : null;
    const ratio50 =
      at("gateway", 50) && at("portkey", 50)
        ? at("gateway", 50)!.requestsPerSec / at("portkey", 50)!.requestsPerSec
        : null;
    const cpu50 = (name: string) => at(name, 50)?.cpuUsPerReq ?? null;
    const cpuRatio50 = cpu50("gateway") && cpu50("portkey") ? cpu50("portkey")! / cpu50("gateway")! : null;
    const gwOverDirect50 =
      at("gateway", 50) && at("direct", 50)
        ? at("gateway", 50)!.requestsPerSec / at("direct", 50)!.requestsPerSec
        : null;
    const bareAddedSeqP50Ms =
      seq.bare && seq.direct ? Math.round(seq.bare.p50Us - seq.direct.p50Us) / 1000 : null;
    const bare50 = at("bare", 50)?.requestsPerSec;
    const meets1 = addedSeqP50Ms === null ? null : addedSeqP50Ms <= TARGETS[1];
    const meets50 = ratio50 === null ? null : ratio50 >= TARGETS[50];
    const verdict = (ok: boolean | null) => (ok === null ? "not measured" : ok ? "MET" : "MISSED");
    const derived = new Table({
      style: { head: [], border: [] },
      head: ["derived figure", "value", "target", ""],
    });
    if (!PROFILE) {
      derived.push(
        [
          "gateway added p50 @1 conn (sequential, µs timing)",
          `${fmt(addedSeqP50Ms, 3)} ms`,
          `≤ ${TARGETS[1]} ms`,
          verdict(meets1),
        ],
        ["gateway added p99 @1 conn (sequential, µs timing)", `${fmt(addedSeqP99Ms, 3)} ms`, "", ""],
        [
          "reference: bare node proxy added p50 @1 conn (sequential)",
          `${fmt(bareAddedSeqP50Ms, 3)} ms`,
          "",
          "",
        ],
        ["gateway added p50 @1 conn (autocannon, 1 ms buckets)", `${fmt(addedAcP50Ms, 0)} ms`, "", ""],
        [
          "gateway / portkey throughput @50 conns",
          ratio50 === null ? "portkey not installed" : `${fmt(ratio50, 2)}×`,
          `≥ ${TARGETS[50]}×`,
          verdict(meets50),
        ],
        [
          "gateway / portkey @50 conns, interleaved rounds (median)",
          ratioRounds.length
            ? `${median(ratioRounds).toFixed(2)}× (${ratioRounds.map((r) => r.toFixed(2)).join(", ")})`
            : "not measured",
          `≥ ${TARGETS[50]}×`,
          verdict(ratioRounds.length ? median(ratioRounds) >= TARGETS[50] : null),
        ],
        ["gateway / direct throughput @50 conns", `${fmt(gwOverDirect50, 2)}×`, "", ""],
        ...(["router-rules", "router-complexity", "flag"] as const).flatMap((name) => {
          const bar = name === "flag" ? FLAG_ADDED_P50_MS : ROUTER_ADDED_P50_MS;
          const added =
            seq[name] && seq.gateway ? Math.round(seq[name]!.p50Us - seq.gateway.p50Us) / 1000 : null;
          const thr =
            at(name, 50) && at("gateway", 50)
              ? at(name, 50)!.requestsPerSec / at("gateway", 50)!.requestsPerSec
              : null;
          return [
            [
              `${LABEL[name]}: added p50 over the gateway @1 conn (sequential)`,
              `${fmt(added, 3)} ms`,
              `≤ ${bar} ms`,
              verdict(added === null ? null : added <= bar),
            ],
            [`${LABEL[name]} / gateway throughput @50 conns`, `${fmt(thr, 2)}×`, "", ""],
          ];
        }),
        [
          "reference: gateway / bare node proxy throughput @50 conns",
          bare50 && at("gateway", 50) ? `${fmt(at("gateway", 50)!.requestsPerSec / bare50, 2)}×` : "—",
          "",
          "",
        ],
        [
          "portkey / gateway proxy CPU per request @50 conns",
          cpuRatio50 === null
            ? "—"
            : `${fmt(cpuRatio50, 2)}× (${cpu50("portkey")} vs ${cpu50("gateway")} µs)`,
          "",
          "",
        ],
      );
      console.log(derived.toString());
    }
    const gatewayAnswered = answered.gateway ?? 0;
    if (deps.totals.requests < gatewayAnswered)
      failures.push(
        `request log: ${deps.totals.requests} entries for ${gatewayAnswered} answered gateway requests`,
      );
    console.log(
      `request log: ${deps.totals.requests} gateway requests logged ` +
        `(${deps.dependents.map((d) => `${d.version}: ${d.requests}`).join(", ")}) for ${gatewayAnswered} answered ` +
        `(warm-up and checks included; requests cut off when a run stopped are logged too); ` +
        `server log lines while measured: ${serverLinesWhileMeasured}`,
    );
    for (const line of serverLinesSample) console.log(`  server: ${line.slice(0, 400)}`);
    if (portkey) console.log(`portkey started as: ${portkey.command} (NODE_ENV=production)`);

    const out = {
      at: new Date().toISOString(),
      machine: {
        loadavgAtEnd: os.loadavg(),
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model.trim(),
        node: process.version,
      },
      serverEntry: SERVER_ENTRY,
      store: pg ? "postgres (BENCH_GATEWAY_DATABASE_URL)" : "pglite (embedded, --data-dir)",
      settings: {
        warmupS: WARMUP_S,
        measureS: MEASURE_S,
        connections: CONNECTIONS,
        pipelining: 1,
        seqN: SEQ_N,
        subjects: SUBJECTS,
      },
      targets: Object.fromEntries(
        targets.map((t) => [
          t.name,
          { description: t.description, load: loads[t.name], sequential: seq[t.name] ?? null },
        ]),
      ),
      portkey: portkey
        ? {
            installed: true,
            version: portkey.version,
            command: portkey.command,
            headers: { "x-portkey-provider": "openai", "x-portkey-custom-host": upstream.url },
            check: portkeyCheck,
          }
        : { installed: false, note: PROFILE ? "skipped in profile mode" : "not installed, skipped" },
      gatewaySetup: {
        route,
        sticky,
        requestLog: deps.totals,
        serverLogLinesWhileMeasured: serverLinesWhileMeasured,
        serverLogLinesSample: serverLinesSample,
      },
      ratioRounds,
      derived: {
        addedP50MsAt1Sequential: addedSeqP50Ms,
        addedP99MsAt1Sequential: addedSeqP99Ms,
        addedP50MsAt1Autocannon: addedAcP50Ms,
        bareProxyAddedP50MsAt1Sequential: bareAddedSeqP50Ms,
        gatewayOverPortkeyAt50: ratio50,
        gatewayOverDirectAt50: gwOverDirect50,
        portkeyOverGatewayCpuPerRequestAt50: cpuRatio50,
        targets: { addedP50MsAt1: TARGETS[1], gatewayOverPortkeyAt50: TARGETS[50] },
        met: { addedP50At1: meets1, throughputVsPortkeyAt50: meets50 },
      },
      failures,
    };
    const file = path.join(
      RESULTS_DIR,
      `gateway${pg ? "-postgres" : ""}${process.env.BENCH_GATEWAY_SERVER_ENTRY ? "-entry" : ""}${PROFILE ? "-profile" : ""}.json`,
    );
    writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`load average at the end ${loadavg()}; wrote ${path.relative(ROOT, file)}`);
  } finally {
    await stopAll();
    await pg?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  if (PROFILE) {
    const files = existsSync(PROFILE_DIR)
      ? readdirSync(PROFILE_DIR)
          .filter((n) => n.endsWith(".cpuprofile"))
          .map((n) => path.join(PROFILE_DIR, n))
      : [];
    const busiest = files.sort((a, b) => busyTime(b) - busyTime(a))[0];
    if (busiest) console.log(summarizeCpuProfile(busiest, 30));
    else console.log(`no .cpuprofile was written in ${PROFILE_DIR}`);
  }
  if (failures.length) {
    console.error(`\nFAILED — the measurements are not clean:\n  ${failures.join("\n  ")}`);
    process.exitCode = 1;
  }
}

main().catch(async (err) => {
  console.error(err);
  await stopAll();
  process.exit(1);
});
