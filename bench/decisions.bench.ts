// The decision benchmark: how often the automatic decisions (roll back, pause, promote; stop
// an experiment, ship) are wrong, and how fast they catch a real breach. It drives the
// project's own decision code (the rollout judge, step machine and fast path; the experiment
// results engine) with a simulated clock over synthetic Poisson traffic, one seed per run.
//
//   npm run bench:decisions                 every scenario at 1, 10, 100 and 1,000 req/s, 200 runs each
//   npm run bench:decisions -- --quick      the targets' scenarios, 60 runs each (about 2 minutes on 2 cores)
//   options: --runs N, --only <text in the scenario key>, --workers N, --out <file>
//
// Writes bench/results/decisions.json. The simulation itself is in bench/decisions/.

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import Table from "cli-table3";
import { build } from "esbuild";
import { wilsonInterval } from "../src/engines/stats/index.ts";
import { experimentScenarios, rolloutScenarios } from "./decisions/scenarios.ts";
import type { RunResult, Task } from "./decisions/worker.ts";

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    runs: { type: "string" },
    only: { type: "string" },
    workers: { type: "string" },
    out: { type: "string", default: join(here, "results", "decisions.json") },
  },
});
const quick = args.quick ?? false;
const runs = Number(args.runs ?? (quick ? 60 : 200));
const workers = Math.max(1, Number(args.workers ?? availableParallelism()));

type Scenario = ReturnType<typeof rolloutScenarios>[number] | ReturnType<typeof experimentScenarios>[number];
const keyOf = (s: Scenario) => `${s.kind}:${s.plan}:${s.id}:${s.rps}`;

/** --quick: the default plan's identical candidate at every rate, everything else at 100 req/s. */
function selected(): Scenario[] {
  const all: Scenario[] = [...rolloutScenarios(), ...experimentScenarios()];
  const picked = quick
    ? all.filter((s) =>
        s.kind === "experiment"
          ? s.id !== "experiment-aa" || s.rps !== 1000
          : s.rps === 100 || (s.plan === "default" && s.id === "aa"),
      )
    : all;
  return args.only ? picked.filter((s) => keyOf(s).includes(args.only!)) : picked;
}

/** A seed per run, stable per scenario, so a rerun reproduces every figure. */
function seedOf(key: string, run: number): number {
  let h = 2166136261;
  for (const ch of key) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return (h ^ Math.imul(run + 1, 0x9e3779b1)) >>> 0;
}

/** The worker as one plain-JavaScript file: tsx's per-function name keeping costs a third of the time. */
async function bundleWorker(): Promise<string> {
  const file = join(tmpdir(), `modelgov-bench-decisions-${process.pid}.mjs`);
  await build({
    entryPoints: [join(here, "decisions", "worker.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: file,
    logLevel: "warning",
  });
  return file;
}

async function runAll(scenarios: Scenario[]): Promise<Map<string, RunResult[]>> {
  const tasks: Task[] = [];
  const batch = 10;
  // Slow (whole-rollout) scenarios first, so no worker is left with a long one at the end.
  const ordered = [...scenarios].sort((a, b) => weight(b) - weight(a));
  for (const s of ordered)
    for (let r = 0; r < runs; r += batch)
      tasks.push({
        key: keyOf(s),
        seeds: Array.from({ length: Math.min(batch, runs - r) }, (_, i) => seedOf(keyOf(s), r + i)),
      });
  const out = new Map<string, RunResult[]>(scenarios.map((s) => [keyOf(s), []]));
  const file = await bundleWorker();
  let done = 0;
  const started = Date.now();
  try {
    await Promise.all(
      Array.from({ length: Math.min(workers, tasks.length) }, () => {
        const w = new Worker(file);
        return new Promise<void>((resolve, reject) => {
          const next = () => {
            const t = tasks.shift();
            w.postMessage(t ?? null);
            if (!t) resolve();
          };
          w.on("message", (m: { key: string; results: RunResult[] }) => {
            out.get(m.key)!.push(...m.results);
            done += m.results.length;
            if (process.stderr.isTTY)
              process.stderr.write(
                `\r${done} of ${scenarios.length * runs} runs, ${((Date.now() - started) / 1000).toFixed(0)} s`,
              );
            next();
          });
          w.on("error", reject);
          next();
        });
      }),
    );
  } finally {
    rmSync(file, { force: true });
    if (process.stderr.isTTY) process.stderr.write("\n");
  }
  return out;
}

/** Rough cost of a scenario's run, for ordering: whole rollouts at high rates are the slowest. */
function weight(s: Scenario): number {
  if (s.kind === "experiment") return s.rps >= 1000 ? 2 : 1;
  const long = ["aa", "margin", "margin-errors", "margin-latency", "margin-group"].includes(s.id);
  return (long && s.plan === "default" ? 100 : 1) * Math.log10(10 * s.rps);
}

const quantile = (xs: number[], q: number): number | null => {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

/** Median and p90 of the time and the candidate requests until the decision. */
function spread(results: RunResult[]) {
  const seconds = results.map((r) => r.seconds);
  const requests = results.map((r) => r.candidateRequests);
  return {
    medianSeconds: quantile(seconds, 0.5),
    p90Seconds: quantile(seconds, 0.9),
    medianCandidateRequests: quantile(requests, 0.5),
    p90CandidateRequests: quantile(requests, 0.9),
  };
}

function share(k: number, n: number) {
  const ci = n > 0 ? wilsonInterval(k, n, 1.959963984540054) : { estimate: 0, lower: 0, upper: 0 };
  return { share: n > 0 ? k / n : 0, ci95: [ci.lower, ci.upper] as [number, number] };
}

function summarise(s: Scenario, results: RunResult[]) {
  const n = results.length;
  const count = (o: string) => results.filter((r) => r.outcome === o).length;
  const decided = results.filter((r) => r.outcome !== "stuck");
  const firing = s.kind === "rollout" ? "rolled_back" : "stopped";
  const fired = results.filter(
    (r) => r.outcome === firing || (s.kind === "experiment" && r.outcome === "shipped"),
  );
  const by: Record<string, number> = {};
  for (const r of results) by[r.decidedBy] = (by[r.decidedBy] ?? 0) + 1;
  return {
    id: s.id,
    kind: s.kind,
    plan: s.plan,
    rps: s.rps,
    describe: s.describe,
    runs: n,
    rolledBack: s.kind === "rollout" ? count("rolled_back") : 0,
    paused: s.kind === "rollout" ? count("paused") : 0,
    promoted: s.kind === "rollout" ? count("promoted") : 0,
    stuck: count("stuck"),
    stopped: s.kind === "experiment" ? count("stopped") : 0,
    shipped: s.kind === "experiment" ? count("shipped") : 0,
    noDifference: s.kind === "experiment" ? count("no_difference") : 0,
    ...spread(decided),
    /** Over the runs the automatic decision fired in (rolled back; stopped or shipped). */
    fired: {
      ...share(fired.length, n),
      ...spread(fired),
    },
    /** Each outcome's share of the runs with its 95% Wilson interval. */
    shares: Object.fromEntries(
      (s.kind === "rollout"
        ? ["rolled_back", "paused", "promoted", "stuck"]
        : ["stopped", "shipped", "no_difference", "stuck"]
      ).map((o) => [o, share(count(o), n)]),
    ),
    rolledBackOrPaused: s.kind === "rollout" ? share(count("rolled_back") + count("paused"), n) : null,
    fixedPShownSignificant:
      s.kind === "experiment" ? share(results.filter((r) => r.fixedPShownSignificant).length, n) : null,
    decidedBy: by,
  };
}

type Summary = ReturnType<typeof summarise>;

/** The targets, checked on whichever of their scenarios ran. */
function targets(list: Summary[]) {
  const out: { target: string; scenario: string; measured: string; met: boolean }[] = [];
  const find = (kind: string, plan: string, id: string, rps?: number) =>
    list.filter(
      (s) => s.kind === kind && s.plan === plan && s.id === id && (rps === undefined || s.rps === rps),
    );
  const pctOf = (x: number) => `${(100 * x).toFixed(1)}%`;
  const ci = (c: [number, number]) => `(95% CI ${pctOf(c[0])}-${pctOf(c[1])})`;
  for (const s of find("rollout", "default", "aa")) {
    const x = s.rolledBackOrPaused!;
    out.push({
      target: "identical candidate: rolled back or paused <= 5%",
      scenario: `default aa ${s.rps} req/s`,
      measured: `${pctOf(x.share)} ${ci(x.ci95)}`,
      met: x.share <= 0.05,
    });
  }
  for (const s of list.filter(
    (x) => x.kind === "rollout" && x.plan === "default" && x.id.startsWith("margin"),
  ))
    out.push({
      target: "candidate exactly at a margin: rolled back <= alpha (5%)",
      scenario: `default ${s.id} ${s.rps} req/s`,
      measured: `${pctOf(s.fired.share)} ${ci(s.fired.ci95)}`,
      met: s.fired.share <= 0.05,
    });
  for (const s of find("rollout", "default", "errors-3pct", 100))
    out.push({
      target: "errors 0.5% -> 3%: >= 99% rolled back, median <= 60 s, < 300 candidate requests",
      scenario: "default errors-3pct 100 req/s",
      measured: `${pctOf(s.fired.share)}, median ${s.fired.medianSeconds} s, ${s.fired.medianCandidateRequests} requests`,
      met:
        s.fired.share >= 0.99 &&
        (s.fired.medianSeconds ?? Infinity) <= 60 &&
        (s.fired.medianCandidateRequests ?? Infinity) < 300,
    });
  for (const s of find("rollout", "default", "success-minus-10", 100))
    out.push({
      target: "success -10 points: >= 99% rolled back, median < 10 min",
      scenario: "default success-minus-10 100 req/s",
      measured: `${pctOf(s.fired.share)}, median ${s.fired.medianSeconds} s`,
      met: s.fired.share >= 0.99 && (s.fired.medianSeconds ?? Infinity) < 600,
    });
  for (const s of find("rollout", "default", "success-minus-5", 100))
    out.push({
      target: "success -5 points: >= 95% rolled back (median time reported)",
      scenario: "default success-minus-5 100 req/s",
      measured: `${pctOf(s.fired.share)}, median ${((s.fired.medianSeconds ?? 0) / 3600).toFixed(1)} h, ${s.fired.medianCandidateRequests} requests`,
      met: s.fired.share >= 0.95,
    });
  for (const s of find("rollout", "default", "group-minus-15", 100))
    out.push({
      target: "10% group 15 points worse: >= 95% rolled back",
      scenario: "default group-minus-15 100 req/s",
      measured: `${pctOf(s.fired.share)}, median ${s.fired.medianSeconds} s`,
      met: s.fired.share >= 0.95,
    });
  for (const s of find("experiment", "ab", "experiment-aa"))
    out.push({
      target: "identical experiment arms: stopped by a guardrail or shipped <= 5%",
      scenario: `experiment-aa ${s.rps} req/s`,
      measured: `${pctOf(s.fired.share)} ${ci(s.fired.ci95)}`,
      met: s.fired.share <= 0.05,
    });
  return out;
}

const pc = (x: number) => `${(100 * x).toFixed(1)}`;

const fmtS = (x: number | null) =>
  x === null
    ? "-"
    : x < 120
      ? `${x.toFixed(0)} s`
      : x < 7200
        ? `${(x / 60).toFixed(1)} min`
        : `${(x / 3600).toFixed(1)} h`;

async function main() {
  const scenarios = selected();
  const t0 = Date.now();
  console.log(
    `decision benchmark: ${scenarios.length} scenarios x ${runs} runs on ${workers} worker(s)${quick ? " (--quick)" : ""}`,
  );
  const results = await runAll(scenarios);
  const list = scenarios.map((s) => summarise(s, results.get(keyOf(s))!));
  const table = new Table({
    head: [
      "plan",
      "req/s",
      "scenario",
      "runs",
      "outcomes, % (95% CI)",
      "fired (95% CI)",
      "median / p90 time",
      "median / p90 cand. req",
      "decided by",
    ],
    style: { head: [], border: [] },
  });
  for (const s of list) {
    const label: Record<string, string> = {
      rolled_back: "back",
      paused: "paused",
      promoted: "promoted",
      stuck: "stuck",
      stopped: "stopped",
      shipped: "shipped",
      no_difference: "no diff",
    };
    const outcomes = Object.entries(s.shares)
      .map(([o, x]) => `${label[o]} ${pc(x.share)} (${pc(x.ci95[0])}-${pc(x.ci95[1])})`)
      .join("\n");
    table.push([
      s.plan,
      s.rps,
      s.id,
      s.runs,
      outcomes,
      `${(100 * s.fired.share).toFixed(1)}% (${(100 * s.fired.ci95[0]).toFixed(1)}-${(100 * s.fired.ci95[1]).toFixed(1)})`,
      `${fmtS(s.fired.medianSeconds ?? s.medianSeconds)} / ${fmtS(s.fired.p90Seconds ?? s.p90Seconds)}`,
      `${s.fired.medianCandidateRequests ?? s.medianCandidateRequests ?? "-"} / ${s.fired.p90CandidateRequests ?? s.p90CandidateRequests ?? "-"}`,
      Object.entries(s.decidedBy)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 2)
        .map(([k, v]) => `${k} ${v}`)
        .join(", "),
    ]);
  }
  console.log(table.toString());
  const checks = targets(list);
  console.log("\ntargets:");
  for (const c of checks)
    console.log(`  ${c.met ? "met    " : "MISSED "} ${c.target}: ${c.scenario}: ${c.measured}`);
  const seconds = (Date.now() - t0) / 1000;
  console.log(`\n${scenarios.length * runs} runs in ${seconds.toFixed(0)} s`);
  mkdirSync(dirname(args.out!), { recursive: true });
  writeFileSync(
    args.out!,
    `${JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        mode: quick ? "quick" : "full",
        runsPerScenario: runs,
        seconds,
        machine: { cpus: cpus().length, model: cpus()[0]?.model ?? null, node: process.version },
        scenarios: list,
        targets: checks,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`wrote ${args.out}`);
}

await main();
