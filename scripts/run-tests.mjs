#!/usr/bin/env node
// Runs the test suite: finds the test files (Node 20's `node --test` takes no globs), groups
// them into jobs and runs two jobs at a time, each a Node process with tsx.
// Usage: node scripts/run-tests.mjs [--typecheck] [--cpu] [path-filter ...]
// --cpu: each job's CPU seconds (user + system, its child processes included, through
// /usr/bin/time) in the summary, biggest first: what to cut when the suite is over its time.
//
// A job is either a shard (several unit and store suites imported one after another into one
// process, scripts/test-shard.mjs) or one file alone: the end-to-end files (they start servers
// and child processes) and any file with hooks at its top level (in a shared process those
// would apply to the other files' tests). Starting Node, tsx and the module graph once per
// shard instead of once per file saves about a second of CPU per file, and the shard's PGlite
// threads share one compiled engine (src/store/pglite-client.ts): sixteen files a shard, not
// eight, took 8.4 s of CPU to 6.1 s on the engines' 32 unit suites.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const JOBS = 2;
const SHARD_SIZE = 16;

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (/\.test\.tsx?$/.test(name)) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
// --typecheck: the type check (tsc for the server and for the console) runs beside the tests, in
// a lane of its own: it is one thread, and run first it left a core idle for half a minute.
const typecheck = args.includes("--typecheck");
const cpuReport = args.includes("--cpu") && existsSync("/usr/bin/time");
const filters = args.filter((a) => a !== "--typecheck" && a !== "--cpu");
const files = [...find("src"), ...find("console")]
  .sort((a, b) => a.localeCompare(b))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}

const alone = (f) =>
  f.includes(".e2e.") || /^(before|after|beforeEach|afterEach)\(/m.test(readFileSync(f, "utf8"));
const shared = files.filter((f) => !alone(f));
const shards = [];
for (let i = 0; i < shared.length; i += SHARD_SIZE) shards.push(shared.slice(i, i + SHARD_SIZE));

// The longest job, the browser tests (a demo rollout inside), starts first so the others fill
// in beside it; the other demo rollout (demo/rollout.e2e) starts last, when the browser tests
// are long done: two demo rollouts at once (40 simulated clients each) starve each other on two
// cores.
const rank = (f) =>
  f.startsWith("console/") && f.includes(".e2e.") ? 0 : f.endsWith("demo/rollout.e2e.test.ts") ? 3 : 2;
const single = files.filter(alone).map((f) => ({ files: [f], rank: rank(f) }));
const jobs = [...single, ...shards.map((s) => ({ files: s, rank: 1 }))];
jobs.sort((a, b) => a.rank - b.rank);
// Every file found runs, once (when the jobs were listed rank by rank, a rank left out of the
// list left demo/rollout.e2e out of every run without a word).
const listed = jobs.flatMap((j) => j.files);
if (listed.length !== files.length || new Set(listed).size !== files.length) {
  console.error("run-tests: the jobs do not hold every test file exactly once");
  process.exit(1);
}

/**
 * The caller's environment without modelgov's own settings (MODELGOV_*, DATABASE_URL): a shell
 * set up to run modelgov must not change what the tests see. The test knobs (MODELGOV_TEST_*,
 * src/test-support/test-env.ts) pass through.
 */
function testEnv() {
  const env = { MODELGOV_LOG_LEVEL: "silent" };
  for (const [k, v] of Object.entries(process.env))
    if ((!k.startsWith("MODELGOV_") || k.startsWith("MODELGOV_TEST_")) && k !== "DATABASE_URL") env[k] = v;
  return env;
}

const totals = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
const failedJobs = [];
const timings = [];
const cpuSeconds = [];
const cpuDir = cpuReport ? mkdtempSync(path.join(os.tmpdir(), "modelgov-test-cpu-")) : "";
const started = Date.now();

/**
 * Runs a command in its own process group (so stopping the run stops the servers and browsers it
 * started) and collects its output, printed whole by the caller so jobs side by side do not
 * interleave.
 */
function collect(cmd, cmdArgs, env) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(cmd, cmdArgs, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    running.add(child);
    const chunks = [];
    child.stdout.on("data", (c) => chunks.push(c));
    child.stderr.on("data", (c) => chunks.push(c));
    child.on("close", (code, signal) => {
      running.delete(child);
      resolve({
        code: code ?? signal,
        output: Buffer.concat(chunks).toString("utf8"),
        seconds: (Date.now() - t0) / 1000,
      });
    });
  });
}

/** Runs one job of test files; counts its results. */
async function runJob(job) {
  const node = [
    process.execPath,
    "--import",
    "tsx",
    "--test-reporter=spec",
    "scripts/test-shard.mjs",
    ...job.files,
  ];
  const cpuFile = cpuReport
    ? path.join(cpuDir, `job-${timings.length}-${Math.random().toString(36).slice(2)}`)
    : null;
  const { code, output, seconds } = cpuFile
    ? await collect("/usr/bin/time", ["-f", "%U %S", "-o", cpuFile, ...node], testEnv())
    : await collect(node[0], node.slice(1), testEnv());
  if (cpuFile && existsSync(cpuFile)) {
    const [user, system] = readFileSync(cpuFile, "utf8").trim().split(/\s+/).slice(-2).map(Number);
    cpuSeconds.push({ files: job.files, cpu: (user ?? 0) + (system ?? 0) });
  }
  process.stdout.write(`\n── ${job.files.join(" ")} (${seconds.toFixed(1)} s)\n${output}`);
  const counts = {};
  for (const m of output.matchAll(/^ℹ (tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm))
    counts[m[1]] = Number(m[2]);
  for (const k of Object.keys(totals)) totals[k] += counts[k] ?? 0;
  // A file that failed to load, or a process that died, may report no failing test.
  if (code !== 0 || counts.tests === undefined) failedJobs.push({ files: job.files, code });
  timings.push({ files: job.files, seconds });
}

const running = new Set();
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"])
  process.on(signal, () => {
    for (const child of running) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
    }
    process.exit(130);
  });

/** Runs a command that is not a test job (the type check); a non-zero exit fails the run. */
async function runCommand(label, cmd, cmdArgs) {
  const { code, output, seconds } = await collect(cmd, cmdArgs, process.env);
  process.stdout.write(`\n── ${label} (${seconds.toFixed(1)} s)${code === 0 ? " ok" : ""}\n${output}`);
  if (code !== 0) failedJobs.push({ files: [label], code });
  timings.push({ files: [label], seconds });
}

const queue = [...jobs];
const tsc = path.join("node_modules", "typescript", "bin", "tsc");
await Promise.all([
  ...Array.from({ length: Math.min(JOBS, queue.length) }, async () => {
    for (let job = queue.shift(); job; job = queue.shift()) await runJob(job);
  }),
  typecheck &&
    (async () => {
      await runCommand("type check (tsc --noEmit)", process.execPath, [tsc, "--noEmit"]);
      await runCommand("type check of the console (tsc --noEmit -p console)", process.execPath, [
        tsc,
        "--noEmit",
        "-p",
        "console",
      ]);
    })(),
]);

const wall = ((Date.now() - started) / 1000).toFixed(1);
console.log(`\n── ${files.length} files in ${jobs.length} jobs, ${wall} s`);
for (const t of timings.sort((a, b) => b.seconds - a.seconds).slice(0, 8))
  console.log(
    `   ${t.seconds.toFixed(1).padStart(6)} s  ${t.files.length === 1 ? t.files[0] : `${t.files[0]} +${t.files.length - 1}`}`,
  );
if (cpuReport) {
  const all = cpuSeconds.reduce((a, c) => a + c.cpu, 0);
  console.log(`── CPU of the test jobs (type check not included): ${all.toFixed(0)} s`);
  for (const c of cpuSeconds.sort((a, b) => b.cpu - a.cpu).slice(0, 15))
    console.log(
      `   ${c.cpu.toFixed(1).padStart(6)} s  ${c.files.length === 1 ? c.files[0] : `${c.files[0]} +${c.files.length - 1}`}`,
    );
  rmSync(cpuDir, { recursive: true, force: true });
}
console.log(
  Object.entries(totals)
    .map(([k, v]) => `ℹ ${k} ${v}`)
    .join("\n"),
);
for (const j of failedJobs) console.log(`✖ job failed (exit ${j.code}): ${j.files.join(" ")}`);
process.exit(failedJobs.length > 0 || totals.fail > 0 || totals.cancelled > 0 ? 1 : 0);
