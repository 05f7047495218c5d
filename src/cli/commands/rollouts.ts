import { setTimeout as sleep } from "node:timers/promises";
import { type Command, InvalidArgumentError } from "commander";
import type { Client } from "../../client/index.ts";
import type { RolloutApiView } from "../../modules/rollouts/index.ts";
import type { Io } from "../output.ts";
import { readDataFile } from "../util.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean };

/** `model@1.2.0` → ["model", "1.2.0"]. */
function modelAtVersion(value: string): [string, string] {
  const m = /^([^@\s]+)@([^@\s]+)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`expected <model>@<version>, got '${value}'`);
  return [m[1]!, m[2]!];
}

/** `[████████░░░░░░░░░░░░] 40%` */
export function bar(weight: number, width = 20): string {
  const full = Math.max(0, Math.min(width, Math.round((weight / 100) * width)));
  return `[${"█".repeat(full)}${"░".repeat(width - full)}] ${Math.round(weight * 10) / 10}%`;
}

interface MetricLine {
  metric: string;
  status: string;
  reason: string;
}

/** A cluster route's sync state in one line: `in_sync (chat-v1-0=90, chat-v1-1=10)`, or why not. */
export function describeSync(s: NonNullable<RolloutApiView["cluster"]>): string {
  const w = (m: Record<string, number> | null) =>
    m
      ? Object.entries(m)
          .map(([k, v]) => `${k}=${v}`)
          .join(", ")
      : "none";
  if (s.state === "in_sync") return `in_sync (${w(s.applied)})`;
  if (s.state === "pending") return `pending: ${w(s.desired)} to apply (applied: ${w(s.applied)})`;
  return `failing (${s.failures} attempt(s)): ${s.lastError ?? "unknown error"}; wants ${w(s.desired)}, applied ${w(s.applied)}`;
}

/** The rollout as a few readable lines: where it stands, the last analysis, the last decision. */
export function describeRollout(r: RolloutApiView): string[] {
  const steps = (r.plan.steps as { weight: number }[]).map((s) => `${s.weight}%`).join(" → ");
  const lines = [
    `${r.model}: ${r.candidate} against ${r.baseline}, ${r.mode === "blue_green" ? "blue-green on mirrored traffic, " : ""}plan '${r.planName}' (${steps})`,
    `status ${r.status}${r.pausedReason ? ` (${r.pausedReason})` : ""} · step ${Math.min(r.stepIndex + 1, r.steps)}/${r.steps} · candidate ${bar(r.weight)}`,
  ];
  if (r.cluster) lines.push(`cluster route ${describeSync(r.cluster)}`);
  const analysed = r.decisions.find((d) => d.analysis && (d.analysis as { metrics?: unknown }).metrics);
  if (analysed) {
    const a = analysed.analysis as { verdict: string; metrics: MetricLine[] };
    lines.push(`last analysis ${analysed.at}: verdict ${a.verdict}`);
    for (const m of a.metrics) lines.push(`  ${m.status.padEnd(17)} ${m.metric}: ${m.reason}`);
  }
  const last = r.decisions[0];
  if (last) {
    lines.push(
      `last decision ${last.at}: ${last.decision} (${last.weightBefore}% → ${last.weightAfter}%) by ${last.actor}`,
    );
    for (const reason of last.reasons) lines.push(`  ${reason}`);
  }
  return lines;
}

const ACTIVE = new Set(["running", "paused"]);

export function registerRolloutCommands(program: Command, ctx: Ctx) {
  const rollout = program
    .command("rollout")
    .description("canary rollouts: start, watch, pause, resume, promote, abort");
  const show = (r: RolloutApiView) =>
    ctx.json() ? ctx.io.out(JSON.stringify(r, null, 2)) : ctx.io.out(describeRollout(r).join("\n"));

  rollout
    .command("start <model@version>")
    .description("start a canary of a version against the production version")
    .option("--plan <name>", "a plan's name: default, demo, blue-green, or one from modelgov.yaml")
    .option("--plan-file <file>", "a whole plan, as JSON or YAML")
    .option(
      "--blue-green",
      "judge the candidate on mirrored traffic while it serves none, then switch at once",
    )
    .action(async (target: string, o) => {
      const [model, version] = modelAtVersion(target);
      const mode = o.blueGreen ? "blue_green" : "canary";
      const plan = o.planFile
        ? (readDataFile(o.planFile) as Record<string, unknown>)
        : (o.plan ?? (mode === "blue_green" ? "blue-green" : "default"));
      show(await ctx.client().rollouts.start(model, version, plan, mode));
    });

  rollout
    .command("status <model>")
    .description("the active (or last) rollout: step, weight, last analysis and decision")
    .option("--watch", "redraw until the rollout ends")
    .option("--interval <seconds>", "how often --watch asks", "1")
    .action(async (model: string, o) => {
      const every = Number(o.interval);
      if (!(every > 0)) throw new InvalidArgumentError("--interval: a number of seconds above 0");
      for (;;) {
        const r = await ctx.client().rollouts.status(model);
        if (!o.watch || ctx.json()) return show(r);
        ctx.io.out(`\n${new Date().toISOString()}\n${describeRollout(r).join("\n")}`);
        if (!ACTIVE.has(r.status)) return;
        await sleep(every * 1000);
      }
    });

  rollout
    .command("verdict <model[@version]>")
    .description(
      "promote, hold or rollback, with the reasons: what an Argo Rollouts analysis reads (of the version's latest rollout, else the active or last one)",
    )
    .action(async (target: string) => {
      const [model, candidate] = target.includes("@") ? modelAtVersion(target) : [target, undefined];
      const v = await ctx.client().rollouts.verdict(model, candidate);
      if (ctx.json()) return ctx.io.out(JSON.stringify(v, null, 2));
      const lines = [
        `${v.verdict}: ${v.model}@${v.candidate} against ${v.baseline} (rollout ${v.rollout}, ${v.status}, step ${Math.min(v.stepIndex + 1, v.steps)}/${v.steps}, candidate ${bar(v.weight)})`,
        ...v.reasons.map((r) => `  ${r}`),
      ];
      if (v.analysis)
        lines.push(
          `judged ${v.analysis.window.from} → ${v.analysis.window.to}: verdict ${v.analysis.verdict}, ${v.analysis.samples.baseline} baseline and ${v.analysis.samples.candidate} candidate requests; the controller would ${v.analysis.action}`,
        );
      ctx.io.out(lines.join("\n"));
    });

  for (const action of ["pause", "resume", "abort"] as const)
    rollout
      .command(`${action} <model>`)
      .description(`${action} the model's active rollout`)
      .option("--reason <text>", "why (kept in the audit trail)")
      .action(async (model: string, o) => {
        const c = ctx.client().rollouts;
        show(action === "resume" ? await c.resume(model) : await c[action](model, o.reason));
      });

  rollout
    .command("promote <model>")
    .description("past the current step (a manual gate); with --full, straight to production")
    .option("--full", "skip the remaining steps")
    .action(async (model: string, o) => show(await ctx.client().rollouts.promote(model, o.full === true)));

  program
    .command("rollback <model>")
    .description("return all traffic to the previous production version at once")
    .option("--reason <text>", "why (kept in the audit trail)")
    .action(async (model: string, o) => {
      const out = await ctx.client().rollouts.rollback(model, o.reason);
      if (ctx.json()) return ctx.io.out(JSON.stringify(out, null, 2));
      ctx.io.out(
        out.rollout && out.rollout.status === "rolled_back"
          ? describeRollout(out.rollout).join("\n")
          : `${model}: production returned to the previous version`,
      );
    });
}

const pct1 = (x: number | null) => (x === null ? "-" : `${(Math.round(x * 1000) / 10).toFixed(1)}%`);

/** `shadow start|stop|report`: mirror live traffic to a version and see how often it agrees. */
export function registerShadowCommands(program: Command, ctx: Ctx) {
  const shadow = program
    .command("shadow")
    .description("shadow mode: mirror live traffic to a version without returning its answers");
  shadow
    .command("start <model@version>")
    .description("mirror a share of the model's plain calls to the version")
    .option("--share <percent>", "percent of calls mirrored", "100")
    .action(async (target: string, o) => {
      const [model, version] = modelAtVersion(target);
      const share = Number(o.share);
      if (!(share > 0 && share <= 100)) throw new InvalidArgumentError("--share: a percentage in (0, 100]");
      const r = await ctx.client().shadow.start(model, version, share);
      ctx.io.out(
        ctx.json()
          ? JSON.stringify(r, null, 2)
          : `${model}: mirroring ${share}% of plain calls to ${version}`,
      );
    });
  shadow
    .command("stop <model>")
    .description("stop mirroring")
    .action(async (model: string) => {
      const r = await ctx.client().shadow.stop(model);
      ctx.io.out(ctx.json() ? JSON.stringify(r, null, 2) : `${model}: no longer mirrored`);
    });
  shadow
    .command("report <model>")
    .description("agreement with the served answers, errors, latency and cost of mirrored calls")
    .option("--window <duration>", "how far back: 15m, 24h, 7d", "1h")
    .action(async (model: string, o) => {
      const r = await ctx.client().shadow.report(model, o.window);
      if (ctx.json()) return ctx.io.out(JSON.stringify(r, null, 2));
      ctx.io.out(
        `${r.model}, last ${r.window}: ${r.current ? `mirroring ${r.current.share}% to ${r.current.version}` : "not mirrored now"}`,
      );
      for (const v of r.versions)
        ctx.io.out(
          `  ${v.version}: ${v.mirrored} mirrored, ${v.errors} error(s), agreement ${pct1(v.agreementRate)}` +
            `${v.agreementCi ? ` (95% ${pct1(v.agreementCi[0] ?? null)}–${pct1(v.agreementCi[1] ?? null)}, n = ${v.compared})` : ""}` +
            `, p95 ${v.shadowP95Ms ?? "-"} ms vs served ${v.servedP95Ms ?? "-"} ms`,
        );
    });
}
