import { type Command, InvalidArgumentError } from "commander";
import type { Client, EvalComparisonView, EvalRunView } from "../../client/index.ts";
import { fmtP } from "../../engines/rollout/index.ts";
import type { Io } from "../output.ts";
import { intArg } from "../util.ts";
import { describeRouting } from "./router.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean; fail: (code: number) => void };

const pct = (x: number | null | undefined) => (x == null ? "-" : `${(x * 100).toFixed(1)}%`);
const ms = (x: number | null | undefined) => (x == null ? "-" : `${Math.round(x)} ms`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `model@version` → its parts. */
export function parseRef(ref: string): { model: string; version: string } {
  const m = /^([^@\s]+)@([^@\s]+)$/.exec(ref);
  if (!m) throw new InvalidArgumentError(`expected <model>@<version>, got '${ref}'`);
  return { model: m[1]!, version: m[2]! };
}

/** `[#########-----------] 45/100 cases  45%  ETA 12s` */
export function progressLine(
  done: number,
  total: number,
  startedMs: number,
  nowMs: number,
  startDone = 0,
): string {
  const width = 24;
  const frac = total ? done / total : 1;
  const filled = Math.round(frac * width);
  const rate = (done - startDone) / Math.max(0.001, (nowMs - startedMs) / 1000);
  const eta = rate > 0 && done < total ? ` ETA ${Math.ceil((total - done) / rate)}s` : "";
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} cases ${Math.floor(frac * 100)}%${eta}`;
}

/** The run in words: aggregate, success by group with intervals, the gates, and what a reviewer must do. */
export function describeRun(r: EvalRunView): string[] {
  const lines = [
    `${r.id}: ${r.model}@${r.version} on suite ${r.suiteName}: ${r.status} (${r.done}/${r.total} cases)`,
  ];
  if (r.error) lines.push(`  ${r.error}`);
  const rep = r.report;
  if (!rep) return lines;
  const a = rep.aggregate;
  lines.push(
    `success ${pct(a.successRate)} (${a.passed}/${a.cases}) · mean score ${a.meanScore?.toFixed(3) ?? "-"} · safety violations ${a.safetyViolations} · errors ${a.errors}`,
    `latency p50 ${ms(a.latencyP50Ms)} / p95 ${ms(a.latencyP95Ms)} · cost per case ${a.costPerCaseUsd == null ? "-" : `$${a.costPerCaseUsd.toFixed(6)}`} · report ${r.reportHash}`,
  );
  for (const [key, g] of Object.entries(rep.groups)) {
    lines.push(
      `success by ${key} (gap ${g.maxGapPoints == null ? "-" : `${g.maxGapPoints.toFixed(1)} points`}):`,
    );
    const ci = rep.intervals[key];
    for (const grp of g.groups) {
      const iv = ci?.groups.find((x) => x.key === grp.key);
      const interval = iv?.lower != null ? ` [${pct(iv.lower)}, ${pct(iv.upper)}]` : "";
      const rate =
        grp.status === "ok" ? `${pct(grp.successRate)}${interval}` : `insufficient (< ${g.minGroupSize})`;
      lines.push(`  ${grp.key.padEnd(24)} n=${String(grp.n).padEnd(5)} ${rate}`);
    }
  }
  if (rep.classification.length) {
    const f = (x: number | null) => (x === null ? "-" : x.toFixed(3));
    lines.push(
      "classification fairness, one label vs the rest (demographic parity diff / ratio, equalized odds diff, equal opportunity diff):",
    );
    for (const c of rep.classification)
      for (const [set, r] of Object.entries(c.byAttribute))
        if (r.demographicParityDifference !== null)
          lines.push(
            `  ${c.label.padEnd(12)} by ${set.padEnd(10)} ${f(r.demographicParityDifference)} / ${f(r.demographicParityRatio)}, ${f(r.equalizedOddsDifference)}, ${f(r.equalOpportunityDifference)}`,
          );
  }
  if (rep.gates.names.length === 0) lines.push("release gates: none apply to this model");
  else {
    lines.push(`release gates (${rep.gates.names.join(", ")}):`);
    for (const v of [rep.gates.benchmark, ...(rep.gates.fairness ? [rep.gates.fairness] : [])])
      for (const reason of v.reasons)
        lines.push(`  ${v.failures.some((f) => f.reason === reason) ? "✗" : "✓"} ${reason}`);
  }
  if (r.routing) lines.push(...describeRouting(r.routing));
  if (r.acceptance)
    lines.push(
      `disparity accepted by ${r.acceptance.by} (${r.acceptance.at}): ${r.acceptance.justification}`,
    );
  if (r.needsReview)
    lines.push(
      `needs review: a group gap exceeds the gate; a reviewer may accept it: modelgov eval accept ${r.id} --justification "…"`,
    );
  return lines;
}

export function describeComparison(c: EvalComparisonView): string[] {
  const lines = [
    `${c.a.model}@${c.a.version} (${c.a.id}) vs ${c.b.model}@${c.b.version} (${c.b.id}) on suite ${c.suite}, ${c.pairs} paired cases`,
    `success ${pct(c.a.aggregate?.successRate)} → ${pct(c.b.aggregate?.successRate)}; both passed ${c.bothPassed}, both failed ${c.bothFailed}`,
    `flips: ${c.onlyA} pass→fail, ${c.onlyB} fail→pass; McNemar exact p = ${fmtP(c.mcNemar.exactPTwoSided)} (χ² ${c.mcNemar.chiSquare.toFixed(3)}): ${c.significant ? "significant" : "not significant"} at α = ${c.alpha}`,
  ];
  for (const f of c.flips.slice(0, 50)) lines.push(`  ${f.caseId}: ${f.from} → ${f.to}`);
  if (c.flips.length > 50) lines.push(`  … ${c.flips.length - 50} more (--json for all)`);
  if (c.unpaired.length) lines.push(`unpaired (left out): ${c.unpaired.join(", ")}`);
  return lines;
}

const gatesFailed = (r: EvalRunView) =>
  !!r.report &&
  (!r.report.gates.benchmark.passed || (r.report.gates.fairness?.passed === false && !r.acceptance));

export function registerEvalCommands(program: Command, ctx: Ctx) {
  const evalCmd = program
    .command("eval")
    .description("evaluation runs: run a suite on a version, compare versions, accept a flagged disparity");

  /** Polls until the run ends, drawing a progress bar (in place on a terminal, every 10% otherwise). */
  async function waitFor(id: string, everyMs: number): Promise<EvalRunView> {
    const started = Date.now();
    let r = await ctx.client().evals.get(id);
    const startDone = r.done;
    let lastDecile = -1;
    while (r.status === "running") {
      const line = progressLine(r.done, r.total, started, Date.now(), startDone);
      if (ctx.io.progress) ctx.io.progress(line);
      else if (Math.floor((r.done / Math.max(1, r.total)) * 10) > lastDecile) {
        lastDecile = Math.floor((r.done / Math.max(1, r.total)) * 10);
        ctx.io.err(line);
      }
      await sleep(everyMs);
      r = await ctx.client().evals.get(id);
    }
    ctx.io.progress?.(progressLine(r.done, r.total, started, Date.now(), startDone));
    ctx.io.progress?.(null);
    return r;
  }

  const show = (r: EvalRunView) =>
    ctx.io.out(ctx.json() ? JSON.stringify(r, null, 2) : describeRun(r).join("\n"));

  async function start(ref: string, suiteFile: string, o: Record<string, unknown>) {
    const { model, version } = parseRef(ref);
    // The suite reader (its schemas) loads when a suite is read, not at every command's start.
    const { readSuiteDocument } = await import("../../modules/evals/suite.ts");
    const suite = await readSuiteDocument(suiteFile);
    const r = await ctx.client().evals.start(model, version, {
      suite,
      ...(o.concurrency !== undefined ? { concurrency: o.concurrency as number } : {}),
      ...(o.attempts !== undefined ? { maxAttempts: o.attempts as number } : {}),
      ...(o.hashOutputs ? { outputs: "hash" as const } : {}),
      ...(o.intersection ? { intersections: o.intersection as string[][] } : {}),
      ...(o.minGroupSize !== undefined ? { minGroupSize: o.minGroupSize as number } : {}),
    });
    ctx.io.err(
      r.resumed
        ? `resuming ${r.id}: ${r.done} of ${r.total} cases already recorded`
        : `started ${r.id}: ${r.total} cases of suite ${r.suiteName} on ${model}@${version}`,
    );
    return r;
  }

  const intervalMs = (o: { interval?: string }) => {
    const s = Number(o.interval ?? "0.5");
    if (!(s > 0)) throw new InvalidArgumentError("--interval: a number of seconds above 0");
    return s * 1000;
  };

  evalCmd
    .command("run <model@version>")
    .description(
      "run every case of a suite through the version (on the server); a run killed midway resumes where it stopped",
    )
    .requiredOption(
      "--suite <file>",
      "the suite (YAML; casesFile JSONL is read and sent inline); fields: docs/reference/eval-suite.md",
    )
    .option("--concurrency <n>", "cases in flight at once (default 8)", intArg)
    .option("--attempts <n>", "attempts per call with jittered backoff (default 3)", intArg)
    .option("--hash-outputs", "keep only each answer's SHA-256, not its text")
    .option(
      "--intersection <a,b>",
      "also break down by this attribute combination (repeat)",
      (v: string, prev: string[][] = []) => [...prev, v.split(",").map((x) => x.trim())],
    )
    .option("--min-group-size <n>", "smaller groups are reported as insufficient (default 30)", intArg)
    .option("--no-wait", "start it and return; follow with modelgov eval status <id> --watch")
    .option("--interval <seconds>", "how often the progress is read", "0.5")
    .action(async (ref: string, o) => {
      const r = await start(ref, o.suite, o);
      if (!o.wait) return show(r);
      const done = await waitFor(r.id, intervalMs(o));
      show(done);
      // CI can gate on it: a failing release gate (not accepted) exits 1.
      if (gatesFailed(done) || done.status !== "completed") ctx.fail(1);
    });

  evalCmd
    .command("status <run>")
    .description("a run's progress, and its report once completed")
    .option("--watch", "follow it with a progress bar until it ends")
    .option("--interval <seconds>", "how often --watch asks", "0.5")
    .action(async (id: string, o) =>
      show(o.watch ? await waitFor(id, intervalMs(o)) : await ctx.client().evals.get(id)),
    );

  evalCmd
    .command("cases <run>")
    .description("a run's recorded cases: outcome, score, latency, tokens, cost, each scorer's reason")
    .option("--failed", "only the cases that did not pass")
    .action(async (id: string, o) => {
      const { cases } = await ctx.client().evals.cases(id);
      const shown = o.failed ? cases.filter((c) => !c.passed) : cases;
      if (ctx.json()) return ctx.io.out(JSON.stringify(shown, null, 2));
      for (const c of shown) {
        const why =
          c.error ??
          c.scorers
            .filter((s) => !s.passed)
            .map((s) => `${s.kind}: ${s.reason}`)
            .join("; ");
        ctx.io.out(
          `${c.passed ? "pass" : "FAIL"} ${c.caseId.padEnd(20)} score ${c.score.toFixed(2)} ${ms(c.latencyMs).padStart(8)} ${c.tokensIn}+${c.tokensOut} tok ${why ? ` ${why}` : ""}`,
        );
      }
    });

  evalCmd
    .command("list [model]")
    .description("evaluation runs, newest first (model or model@version)")
    .option("--status <status>", "running, completed, failed or cancelled")
    .action(async (target: string | undefined, o) => {
      const q = target?.includes("@") ? parseRef(target) : { model: target };
      const { runs } = await ctx.client().evals.list({ ...q, status: o.status });
      if (ctx.json()) return ctx.io.out(JSON.stringify(runs, null, 2));
      if (!runs.length) return ctx.io.out("(none)");
      for (const r of runs)
        ctx.io.out(
          `${r.id}  ${`${r.model}@${r.version}`.padEnd(28)} ${r.suiteName.padEnd(20)} ${r.status.padEnd(9)} ${r.done}/${r.total}  success ${pct(r.report?.aggregate.successRate)}${r.needsReview ? "  needs review" : ""}`,
        );
    });

  evalCmd
    .command("compare <a> [b]")
    .description(
      "two versions on the same suite, paired case by case: the flips and McNemar's test (model@A model@B --suite f, or two run ids)",
    )
    .option("--suite <file>", "the suite; a completed run of it is reused unless --fresh")
    .option("--fresh", "run both versions again even if completed runs of this suite exist")
    .option("--alpha <p>", "significance level", "0.05")
    .option("--interval <seconds>", "how often progress is read", "0.5")
    .action(async (a: string, b: string | undefined, o) => {
      if (!b) throw new InvalidArgumentError("give two versions (model@A model@B) or two run ids");
      let ids: [string, string];
      if (/^evr_/.test(a) && /^evr_/.test(b)) ids = [a, b];
      else {
        if (!o.suite) throw new InvalidArgumentError("--suite is required to compare versions");
        const { loadSuite } = await import("../../modules/evals/suite.ts");
        const hash = (await loadSuite(o.suite)).hash;
        const runOf = async (ref: string) => {
          const { model, version } = parseRef(ref);
          if (!o.fresh) {
            const { run } = await ctx.client().evals.latest(model, version, hash);
            if (run) {
              ctx.io.err(`reusing ${run.id} (${model}@${version}, completed ${run.finishedAt})`);
              return run.id;
            }
          }
          const r = await start(ref, o.suite, {});
          return (await waitFor(r.id, intervalMs(o))).id;
        };
        ids = [await runOf(a), await runOf(b)];
      }
      const c = await ctx.client().evals.compare(ids[0], ids[1], Number(o.alpha));
      ctx.io.out(ctx.json() ? JSON.stringify(c, null, 2) : describeComparison(c).join("\n"));
    });

  evalCmd
    .command("accept <run>")
    .description("accept a run's failing fairness gate with a written justification (audited)")
    .requiredOption("--justification <text>", "why the disparity is acceptable (at least 20 characters)")
    .action(async (id: string, o) => show(await ctx.client().evals.acceptDisparity(id, o.justification)));

  evalCmd
    .command("cancel <run>")
    .description("stop a running evaluation; recorded cases stay")
    .requiredOption("--reason <text>", "why (kept in the audit trail)")
    .action(async (id: string, o) => show(await ctx.client().evals.cancel(id, o.reason)));
}
