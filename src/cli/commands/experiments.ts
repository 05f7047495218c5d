import Table from "cli-table3";
import { type Command, InvalidArgumentError, Option } from "commander";
import type { Client } from "../../client/index.ts";
import type { Guardrail } from "../../engines/experiments/index.ts";
import { fmtDuration, fmtP, num, pct, signedPct, usd } from "../../engines/rollout/index.ts";
import type { ExperimentApiView, ExperimentResultsView } from "../../modules/experiments/index.ts";
import type { Io } from "../output.ts";
import { pathTable } from "../path-table.ts";
import { collect, intArg } from "../util.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean };

type Arm = { name: string; version: string; weight: number };

/** `control=1.0.0:50` → { name: "control", version: "1.0.0", weight: 50 }. */
export function parseArm(value: string): Arm {
  const m = /^([^=\s]+)=([^:\s]+):(\d+(?:\.\d+)?)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`expected <name>=<version>:<weight>, got '${value}'`);
  return { name: m[1]!, version: m[2]!, weight: Number(m[3]) };
}

/** `error_rate<=0.02` (or `<=2%`); `latency_p95_ms<=800`; `cost_per_request_usd<=+20%` (relative to the control). */
export function parseGuardrail(value: string): Guardrail {
  const m = /^(error_rate|latency_p95_ms|cost_per_request_usd)<=(\+?)(\d+(?:\.\d+)?)(%?)$/.exec(value);
  if (!m)
    throw new InvalidArgumentError(
      `expected error_rate<=0.02, latency_p95_ms<=800 or cost_per_request_usd<=+20%, got '${value}'`,
    );
  const [, metric, plus, n, percent] = m;
  const x = Number(n) / (percent ? 100 : 1);
  if (metric === "error_rate") {
    if (plus) throw new InvalidArgumentError("error_rate takes an absolute limit, not +N%");
    return { metric, max: x };
  }
  const kind = metric as "latency_p95_ms" | "cost_per_request_usd";
  return plus ? { metric: kind, maxRelativeIncrease: x } : { metric: kind, max: x };
}

const rate = (x: number | null) => (x === null ? "-" : pct(x));

/** The results as a table per arm, then the SRM check, guardrails and the recommendation with its reasons. */
export function describeResults(v: ExperimentResultsView): string[] {
  const r = v.results;
  const lines = [
    `${v.model}: experiment '${v.name}' ${v.status}, ${fmtDuration(v.elapsedMs)} of data (looked at ${v.at})`,
  ];
  const table = new Table({
    head: [
      "arm",
      "version",
      "requests",
      "success",
      "errors",
      r.horizon?.reached === false ? "lift (always-valid CI)" : "lift (CI)",
      "p always-valid",
      "p fixed-horizon",
      "beats ctrl",
      "$/success",
    ],
    style: { head: [], border: [] },
  });
  for (const a of r.arms) {
    const c = r.primary.find((p) => p.arm === a.name);
    const lift = c?.lift
      ? `${signedPct(c.lift.estimate)} (${signedPct(c.lift.ci[0])} to ${signedPct(c.lift.ci[1])})`
      : c
        ? "-"
        : "control";
    table.push([
      a.name,
      a.version,
      num(a.requests, 0),
      rate(a.successRate),
      rate(a.errorRate),
      lift,
      c?.adjustedP == null ? "-" : fmtP(c.adjustedP),
      c?.pValue == null ? (c && r.horizon?.reached === false ? "at horizon" : "-") : fmtP(c.pValue),
      c?.chanceToBeatControl == null ? "-" : pct(c.chanceToBeatControl),
      a.costPerSuccessUsd === null ? "-" : usd(a.costPerSuccessUsd),
    ]);
  }
  lines.push(table.toString());
  for (const p of v.paths ?? [])
    lines.push(`success by path, arm ${p.arm} (${p.strategy} router ${p.version}):`, pathTable(p.paths));
  if (r.horizon) lines.push(`reading now: ${r.horizon.note}`);
  if (r.secondary.length > 0) {
    lines.push("secondary metrics (always-valid p, corrected across them):");
    for (const s of r.secondary)
      lines.push(
        `  ${s.arm} ${s.metric}: ${rate(s.treatment)} vs ${rate(s.control)}${s.lift ? ` (${signedPct(s.lift.estimate)})` : ""}, always-valid p = ${s.sequentialP == null ? "-" : fmtP(s.sequentialP)}, adjusted ${s.adjustedP === null ? "-" : fmtP(s.adjustedP)}${s.pValue == null ? "" : `, fixed-horizon p = ${fmtP(s.pValue)}`}${s.significant ? `, significantly ${s.direction}` : ""}`,
      );
  }
  const srm = r.srm;
  lines.push(
    srm.p === null
      ? "SRM: no traffic yet"
      : `SRM: ${srm.status}, p = ${fmtP(srm.p)} (${srm.unit} ${srm.observed.map((o) => num(o, 0)).join(" / ")}; expected ${srm.expected.map((e) => num(e, 0)).join(" / ")})`,
  );
  if (r.guardrails.length === 0) lines.push("guardrails: none set");
  else {
    lines.push("guardrails:");
    for (const g of r.guardrails) lines.push(`  ${g.status.padEnd(17)} ${g.reason}`);
  }
  const rec = r.recommendation;
  lines.push(`recommendation: ${rec.decision.replaceAll("_", " ")}${rec.arm ? ` (${rec.arm})` : ""}`);
  for (const reason of rec.reasons) lines.push(`  ${reason}`);
  return lines;
}

export function describeExperiment(e: ExperimentApiView): string[] {
  const arms = e.arms.map((a) => `${a.name} ${a.version} ${a.weight}%`).join(", ");
  const lines = [
    `${e.model}: experiment '${e.name}' ${e.status}${e.stopReason ? ` (${e.stopReason})` : ""}: ${arms}`,
    `primary ${e.primary}${e.secondary.length ? `, secondary ${e.secondary.join(", ")}` : ""}; minimum ${num(e.minSamplePerArm, 0)} per arm, planned ${num(e.plannedSamplePerArm, 0)} per arm`,
  ];
  const rec = e.results?.results.recommendation;
  if (rec)
    lines.push(`recommendation: ${rec.decision.replaceAll("_", " ")}${rec.arm ? ` (${rec.arm})` : ""}`);
  return lines;
}

export function registerExperimentCommands(program: Command, ctx: Ctx) {
  const experiment = program
    .command("experiment")
    .description("A/B experiments between versions: create, results, stop");
  const show = (e: ExperimentApiView) =>
    ctx.io.out(ctx.json() ? JSON.stringify(e, null, 2) : describeExperiment(e).join("\n"));

  experiment
    .command("create <model>")
    .description("start an A/B experiment; the gateway splits traffic stickily by subject")
    .requiredOption("--name <name>", "the experiment's name (unique per model)")
    .option(
      "--arm <name=version:weight>",
      "an arm (repeat; the first is the control; weights add up to 100)",
      (v: string, prev: Arm[]) => [...prev, parseArm(v)],
      [],
    )
    .addOption(
      new Option("--primary <metric>", "the metric that decides")
        .choices(["success_rate", "score_mean"])
        .default("success_rate"),
    )
    .option("--secondary <metric>", "success_rate, error_rate or score_mean (repeat)", collect, [])
    .option(
      "--guardrail <limit>",
      "e.g. error_rate<=0.02, latency_p95_ms<=+20% (repeat)",
      (v: string, prev: Guardrail[]) => [...prev, parseGuardrail(v)],
      [],
    )
    .option("--min-sample <n>", "primary observations per arm before a decision", intArg)
    .option("--planned-sample <n>", "the planned sample per arm (the horizon)", intArg)
    .option("--min-duration-ms <ms>", "minimum running time before a decision", intArg)
    .action(async (model: string, o, cmd: Command) => {
      if (o.arm.length < 2)
        cmd.error("error: give at least two --arm (the first is the control)", { exitCode: 2 });
      const e = await ctx.client().experiments.create(model, {
        name: o.name,
        arms: o.arm,
        primary: o.primary,
        secondary: o.secondary,
        guardrails: o.guardrail,
        minSamplePerArm: o.minSample,
        plannedSamplePerArm: o.plannedSample,
        minDurationMs: o.minDurationMs,
      });
      show(e);
    });

  experiment
    .command("results <model>")
    .description(
      "per arm: counts, rates, lift with CI, p-values, chance to beat control; SRM, guardrails, recommendation",
    )
    .action(async (model: string) => {
      const v = await ctx.client().experiments.results(model);
      ctx.io.out(ctx.json() ? JSON.stringify(v, null, 2) : describeResults(v).join("\n"));
    });

  experiment
    .command("stop <model>")
    .description("stop the running experiment: a final look, then all traffic back to production")
    .option("--reason <text>", "why (kept in the audit trail)")
    .action(async (model: string, o) => show(await ctx.client().experiments.stop(model, o.reason)));
}
