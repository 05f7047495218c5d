import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { performance } from "node:perf_hooks";
import Table from "cli-table3";
import {
  advance,
  DEFAULT_RULES,
  type DriftRule,
  type Histogram,
  INITIAL_STATE,
  type MetricRule,
  type MetricSums,
  type MonitorRule,
  parseRuleText,
  type RuleState,
  testDriftWindow,
  testMetricWindow,
} from "../src/engines/monitoring/index.ts";
import { normalCdf, psiFromCounts } from "../src/engines/stats/index.ts";
import { systemContext } from "../src/http/context.ts";
import { manualClock } from "../src/lib/clock.ts";
import { createMonitoringService } from "../src/modules/monitoring/index.ts";
import { featureHistograms, NUMERIC_BIN_BOUNDS } from "../src/modules/request-log/index.ts";
import { type Db, openPglite, openPostgres } from "../src/store/db.ts";
import { migrate } from "../src/store/migrate.ts";
import { createThrowawayDatabase } from "../src/store/throwaway.ts";
import { fillSynthetic, HOT, HOT_VERSIONS, rebuildRollups } from "./synthetic-log.ts";

/*
 * The default monitoring rules as statistical procedures (docs/monitoring.md):
 *
 *  - false alarms: stable versions watched for 90 days after a 7-day baseline; the share of
 *    versions on which any rule fired at least once (every look counted);
 *  - time to detect: a 10-point success decay (0.80 -> 0.70), and an input-token shift of
 *    PSI 0.25, starting on day 30; days from the change to the firing window.
 *
 * Each simulated day draws the day's sums (requests, errors, judged requests and successes,
 * the latency histogram, token histograms) from the stated distributions and hands them to
 * the same engine the server runs. `npm run bench:monitor [-- --runs 1000 --traffic 5000,500]`
 *
 * The cost of a monitoring pass against the database: `--pass postgres:10000000,pglite:1000000`
 * fills a synthetic 30-day log (bench/synthetic-log.ts), watches its hot model with the default
 * rules and times a catch-up pass (every day since the baseline) and the daily pass (one new
 * day per rule), median of 5.
 */

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const RUNS = Number(arg("runs") ?? 1000);
const TRAFFIC = (arg("traffic") ?? "5000,500").split(",").map(Number);
const DAYS = 90;
const BASELINE_DAYS = 7;
const CHANGE_DAY = 30;
const FEEDBACK_SHARE = 0.3;

// --- a seeded generator and the samplers ---------------------------------------------------

function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
type Rand = () => number;

function gaussian(rand: Rand): number {
  const u = Math.max(rand(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Binomial: inversion when the mean is small, else the normal approximation, rounded and clamped. */
function binomial(rand: Rand, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const mean = n * p;
  if (mean < 30 || n * (1 - p) < 30) {
    if (n <= 200) {
      let x = 0;
      for (let i = 0; i < n; i++) if (rand() < p) x++;
      return x;
    }
    // Inversion of the CDF from 0 (mean < 30: a few dozen steps).
    const flip = p > 0.5;
    const q = flip ? 1 - p : p;
    let k = 0;
    let pk = (1 - q) ** n;
    let cdf = pk;
    const u = rand();
    while (u > cdf && k < n) {
      pk *= ((n - k) / (k + 1)) * (q / (1 - q));
      k++;
      cdf += pk;
    }
    return flip ? n - k : k;
  }
  const x = Math.round(mean + Math.sqrt(mean * (1 - p)) * gaussian(rand));
  return Math.min(n, Math.max(0, x));
}

/** Multinomial counts over bins with probabilities `ps` (summing to 1), by conditional binomials. */
function multinomial(rand: Rand, n: number, ps: readonly number[]): number[] {
  const out: number[] = [];
  let left = n;
  let mass = 1;
  for (const p of ps) {
    const x = left > 0 && mass > 0 ? binomial(rand, left, Math.min(1, p / mass)) : 0;
    out.push(x);
    left -= x;
    mass -= p;
  }
  return out;
}

// --- the simulated version --------------------------------------------------------------------

const logNormalBins = (edges: readonly number[], median: number, sigma: number) => {
  const mu = Math.log(median);
  const cdf = (x: number) => (x <= 0 ? 0 : normalCdf((Math.log(x) - mu) / sigma));
  return edges.map((lo, i) => cdf(edges[i + 1] ?? Number.POSITIVE_INFINITY) - cdf(lo));
};

/** Token bins: the feature roll-up's own (0, 1, 2, 3, then 2^k and 1.5 x 2^k), named by lower bound. */
const TOKEN_EDGES = NUMERIC_BIN_BOUNDS;
/** Latency buckets 0..400 (16 per doubling), as the request log's histogram. */
const LATENCY_EDGES = Array.from({ length: 401 }, (_, b) => (b === 0 ? 0 : 2 ** (b / 16)));

interface Profile {
  success: number;
  errorRate: number;
  latencyMedianMs: number;
  tokensInMedian: number;
  tokensOutMedian: number;
}

const STABLE: Profile = {
  success: 0.8,
  errorRate: 0.01,
  latencyMedianMs: 800,
  tokensInMedian: 400,
  tokensOutMedian: 200,
};

interface Day {
  sums: MetricSums;
  features: Record<string, Histogram>;
}

function draw(rand: Rand, requests: number, p: Profile): Day {
  const errors = binomial(rand, requests, p.errorRate);
  const judged = binomial(rand, requests - errors, FEEDBACK_SHARE);
  const latency = multinomial(rand, requests, logNormalBins(LATENCY_EDGES, p.latencyMedianMs, 0.35));
  // Token counts: binned, and summed as whole numbers spread evenly within each bin (the sum of
  // a bin's c draws has mean c * mid and variance c * within).
  const hist = (median: number, sigma: number) => {
    const counts = multinomial(rand, requests, logNormalBins(TOKEN_EDGES, median, sigma));
    const h: Record<string, number> = {};
    let sum = 0;
    counts.forEach((c, i) => {
      if (c === 0) return;
      const lo = TOKEN_EDGES[i]!;
      const hi = TOKEN_EDGES[i + 1] ?? lo + 1;
      const mid = (lo + hi - 1) / 2;
      const within = ((hi - lo) ** 2 - 1) / 12;
      h[String(lo)] = c;
      sum += Math.max(lo * c, Math.round(c * mid + Math.sqrt(c * within) * gaussian(rand)));
    });
    return { h, sum };
  };
  const tokensIn = hist(p.tokensInMedian, 0.8);
  const tokensOut = hist(p.tokensOutMedian, 0.6);
  return {
    sums: {
      requests,
      errors,
      costUsd: 0,
      costSumSquares: 0,
      latencyHistogram: latency,
      feedbackCount: judged,
      successes: binomial(rand, judged, p.success),
      scoreCount: 0,
      scoreSum: 0,
      scoreSumSquares: 0,
      refusals: 0,
      validityChecked: 0,
      valid: 0,
      tokensIn: tokensIn.sum,
      tokensOut: tokensOut.sum,
      tokenHistograms: { in: tokensIn.h, out: tokensOut.h },
    },
    features: { tokens_in: tokensIn.h, tokens_out: tokensOut.h },
  };
}

function addSums(a: MetricSums, b: MetricSums): MetricSums {
  const latency = Array.from(
    { length: Math.max(a.latencyHistogram.length, b.latencyHistogram.length) },
    (_, i) => (a.latencyHistogram[i] ?? 0) + (b.latencyHistogram[i] ?? 0),
  );
  const out = { ...a, latencyHistogram: latency };
  for (const k of Object.keys(a) as (keyof MetricSums)[])
    if (k !== "latencyHistogram" && k !== "tokenHistograms")
      (out as Record<string, unknown>)[k] = (a[k] as number) + (b[k] as number);
  if (a.tokenHistograms && b.tokenHistograms)
    out.tokenHistograms = {
      in: addHist(a.tokenHistograms.in, b.tokenHistograms.in),
      out: addHist(a.tokenHistograms.out, b.tokenHistograms.out),
    };
  return out;
}
const addHist = (a: Histogram, b: Histogram) => {
  const out: Record<string, number> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
};

/** The input-token median shift whose expected PSI against the stable bins is `target`. */
function medianForPsi(target: number): number {
  const base = logNormalBins(TOKEN_EDGES, STABLE.tokensInMedian, 0.8);
  const psiAt = (m: number) => psiFromCounts(base, logNormalBins(TOKEN_EDGES, m, 0.8)).psi;
  let lo = STABLE.tokensInMedian;
  let hi = STABLE.tokensInMedian * 20;
  for (let i = 0; i < 100; i++) {
    const mid = Math.sqrt(lo * hi);
    if (psiAt(mid) < target) lo = mid;
    else hi = mid;
  }
  return Math.sqrt(lo * hi);
}

interface Outcome {
  /** Day (0-based after the baseline) each rule first fired, or null. */
  firstFire: Map<string, number | null>;
}

function simulate(
  seed: number,
  requests: number,
  rules: MonitorRule[],
  changed: Partial<Profile> | null,
): Outcome {
  const rand = mulberry32(seed);
  let base = draw(rand, requests, STABLE);
  for (let d = 1; d < BASELINE_DAYS; d++) {
    const day = draw(rand, requests, STABLE);
    base = {
      sums: addSums(base.sums, day.sums),
      features: Object.fromEntries(
        Object.keys(base.features).map((k) => [k, addHist(base.features[k]!, day.features[k]!)]),
      ),
    };
  }
  const states = new Map<string, RuleState>(rules.map((r) => [r.name, INITIAL_STATE]));
  const firstFire = new Map<string, number | null>(rules.map((r) => [r.name, null]));
  for (let d = 0; d < DAYS; d++) {
    const profile = changed && d >= CHANGE_DAY ? { ...STABLE, ...changed } : STABLE;
    const day = draw(rand, requests, profile);
    for (const rule of rules) {
      const verdict =
        rule.kind === "metric"
          ? testMetricWindow(rule as MetricRule, day.sums, base.sums)
          : testDriftWindow(
              rule as DriftRule,
              day.features[(rule as DriftRule).feature] ?? {},
              base.features[(rule as DriftRule).feature] ?? {},
            );
      const step = advance(rule, states.get(rule.name)!, verdict, String(d));
      states.set(rule.name, step.state);
      if (step.event === "fired" && firstFire.get(rule.name) === null) firstFire.set(rule.name, d);
    }
  }
  return { firstFire };
}

const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
/** Clopper-Pearson-free upper bound for zero events: the rule of three. */
const upper95 = (events: number, n: number) => (events === 0 ? 3 / n : null);

/** Not a default rule: measured beside them (its alarms are not in the defaults' share). */
const TOKENS_RULE = "output tokens per call rises >30% from baseline for 3 consecutive days";

async function main() {
  const defaults = DEFAULT_RULES.map((t) => parseRuleText(t));
  const tokensRule = parseRuleText(TOKENS_RULE);
  const rules = [...defaults, tokensRule];
  const psiMedian = medianForPsi(0.25);
  const results: Record<string, unknown>[] = [];
  const t0 = performance.now();
  for (const requests of TRAFFIC) {
    // False alarms: stable versions.
    let anyFired = 0;
    const perRule = new Map<string, number>(rules.map((r) => [r.name, 0]));
    for (let run = 0; run < RUNS; run++) {
      const o = simulate(1_000_003 * run + requests, requests, rules, null);
      let any = false;
      for (const [name, day] of o.firstFire)
        if (day !== null) {
          if (name !== tokensRule.name) any = true;
          perRule.set(name, perRule.get(name)! + 1);
        }
      if (any) anyFired++;
    }
    // Detection: a 10-point decay; an input-token shift of PSI 0.25.
    const detect = (changed: Partial<Profile>, rule: string) => {
      const days: number[] = [];
      let missed = 0;
      let early = 0;
      for (let run = 0; run < Math.min(RUNS, 500); run++) {
        const d = simulate(7_000_001 * run + requests, requests, rules, changed).firstFire.get(rule) ?? null;
        if (d === null) missed++;
        else if (d < CHANGE_DAY) early++;
        else days.push(d - CHANGE_DAY + 1);
      }
      return {
        runs: Math.min(RUNS, 500),
        median: quantile(days, 0.5),
        p95: quantile(days, 0.95),
        missed,
        firedBeforeChange: early,
      };
    };
    const decay = detect({ success: 0.7 }, rules[0]!.name);
    const shift = detect({ tokensInMedian: psiMedian }, rules[3]!.name);
    // Answers half as long again (the mean moves with the median of a log-normal).
    const longer = detect({ tokensOutMedian: STABLE.tokensOutMedian * 1.5 }, tokensRule.name);
    results.push({
      requestsPerDay: requests,
      judgedPerDay: Math.round(requests * 0.99 * FEEDBACK_SHARE),
      stableRuns: RUNS,
      falseAlarmShare: anyFired / RUNS,
      falseAlarmUpper95: upper95(anyFired, RUNS),
      falseAlarmsPerRule: Object.fromEntries(perRule),
      decay10Points: decay,
      inputPsi025: { ...shift, tokensInMedian: Math.round(psiMedian) },
      outputTokensUp50: longer,
    });
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(0);
  const table = new Table({
    head: [
      "requests/day",
      "stable versions with any alarm in 90 days",
      "10-point decay: days to fire (median / p95)",
      "input tokens PSI 0.25: days to fire (median / p95)",
      "tokens rule: stable alarms; output +50%: days to fire",
    ],
  });
  for (const r of results as {
    requestsPerDay: number;
    stableRuns: number;
    falseAlarmShare: number;
    falseAlarmUpper95: number | null;
    decay10Points: { median: number | null; p95: number | null; missed: number };
    inputPsi025: { median: number | null; p95: number | null; missed: number };
    falseAlarmsPerRule: Record<string, number>;
    outputTokensUp50: { median: number | null; p95: number | null; missed: number };
  }[])
    table.push([
      r.requestsPerDay.toLocaleString(),
      `${(r.falseAlarmShare * 100).toFixed(1)}% of ${r.stableRuns}${r.falseAlarmUpper95 !== null ? ` (< ${(r.falseAlarmUpper95 * 100).toFixed(1)}% at 95%)` : ""}`,
      `${r.decay10Points.median ?? "–"} / ${r.decay10Points.p95 ?? "–"} days${r.decay10Points.missed ? `, ${r.decay10Points.missed} missed` : ""}`,
      `${r.inputPsi025.median ?? "–"} / ${r.inputPsi025.p95 ?? "–"} days${r.inputPsi025.missed ? `, ${r.inputPsi025.missed} missed` : ""}`,
      `${(((r.falseAlarmsPerRule[tokensRule.name] ?? 0) / r.stableRuns) * 100).toFixed(1)}%; ${r.outputTokensUp50.median ?? "–"} / ${r.outputTokensUp50.p95 ?? "–"} days${r.outputTokensUp50.missed ? `, ${r.outputTokensUp50.missed} missed` : ""}`,
    ]);
  console.log(table.toString());
  console.log(
    `default rules:\n${DEFAULT_RULES.map((r) => `  ${r}`).join("\n")}\nbeside them: ${TOKENS_RULE}\n(${secs} s, ${os.cpus().length} cores)`,
  );
  await mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await writeFile(
    new URL("./results/monitor.json", import.meta.url),
    `${JSON.stringify({ at: new Date().toISOString(), rules: DEFAULT_RULES, tokensRule: TOKENS_RULE, results }, null, 2)}\n`,
  );
}

const DAY_MS = 86_400_000;

async function openStore(name: string): Promise<{ db: Db; cleanup(): Promise<void> }> {
  if (name === "pglite") {
    const db = await openPglite();
    await migrate(db);
    return { db, cleanup: () => db.close() };
  }
  const url = process.env.MODELGOV_BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
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

async function passCost(spec: string) {
  const out: Record<string, unknown>[] = [];
  for (const part of spec.split(",")) {
    const [storeName, rowsText] = part.split(":") as [string, string];
    const rows = Number(rowsText);
    const store = await openStore(storeName);
    try {
      const end = new Date(Date.UTC(2026, 11, 1, 3, 0, 0));
      await fillSynthetic(store.db, {
        rows,
        end,
        onProgress: (n) =>
          process.stderr.write(`\r${storeName} ${rows.toLocaleString()}: ${n.toLocaleString()} rows`),
      });
      await rebuildRollups(store.db);
      if (storeName === "postgres") await store.db.query("VACUUM ANALYZE");
      process.stderr.write("\n");
      const today = Date.UTC(2026, 11, 1);
      const clock = manualClock(new Date(today - DAY_MS + 2 * 3_600_000));
      const monitoring = createMonitoringService({
        db: store.db,
        clock,
        gatesFor: async () => [],
        readFeatures: async (q, model, versionId, from, to) =>
          (await featureHistograms(q, model, [versionId], from, to)).get(versionId) ?? {},
        productionOf: async () => ({
          modelId: "mdl_hot",
          versionId: HOT_VERSIONS[0]!,
          version: "1.0.0",
          since: new Date(end.getTime() - 29 * DAY_MS),
        }),
      });
      const ctx = systemContext("bench", "bench");
      await monitoring.setConfig(ctx, HOT, { baseline: { kind: "first-days", days: 7 } });
      let t0 = performance.now();
      const first = await monitoring.runModel(ctx, HOT);
      const catchUpMs = performance.now() - t0;
      await store.db.query("CREATE TABLE bench_states AS SELECT * FROM monitor_rule_states");
      clock.advance(DAY_MS);
      const daily: number[] = [];
      let judged = 0;
      for (let r = 0; r < 6; r++) {
        await store.db.query("DELETE FROM monitor_windows WHERE window_start = $1", [
          new Date(today - DAY_MS).toISOString(),
        ]);
        await store.db.query("DELETE FROM monitor_rule_states");
        await store.db.query("INSERT INTO monitor_rule_states SELECT * FROM bench_states");
        t0 = performance.now();
        judged = (await monitoring.runModel(ctx, HOT)).judged;
        if (r > 0) daily.push(performance.now() - t0);
      }
      daily.sort((a, b) => a - b);
      out.push({
        store: storeName,
        rows,
        catchUpWindows: first.judged,
        catchUpMs,
        dailyWindows: judged,
        dailyMs: daily[2],
      });
    } finally {
      await store.cleanup();
    }
  }
  const table = new Table({
    head: ["store", "logged requests", "catch-up pass", "daily pass (one new day, 5 rules)"],
  });
  for (const r of out as {
    store: string;
    rows: number;
    catchUpWindows: number;
    catchUpMs: number;
    dailyWindows: number;
    dailyMs: number;
  }[])
    table.push([
      r.store,
      r.rows.toLocaleString(),
      `${r.catchUpWindows} windows in ${Math.round(r.catchUpMs)} ms`,
      `${r.dailyWindows} windows in ${r.dailyMs.toFixed(1)} ms`,
    ]);
  console.log(table.toString());
  await mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await writeFile(
    new URL("./results/monitor-pass.json", import.meta.url),
    `${JSON.stringify({ at: new Date().toISOString(), results: out }, null, 2)}\n`,
  );
}

const passArg = arg("pass");
if (passArg) await passCost(passArg);
else await main();
