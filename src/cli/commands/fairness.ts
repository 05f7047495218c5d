import Table from "cli-table3";
import type { Command } from "commander";
import type { Client } from "../../client/index.ts";
import { fmtDuration, num, pct } from "../../engines/rollout/index.ts";
import type { PointView, SeriesView } from "../../modules/bias-drift/index.ts";
import type { Io } from "../output.ts";
import { intArg } from "../util.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean };

/** "2026-03-01T10:00:00.000Z" → "2026-03-01 10:00". */
const when = (iso: string) => iso.slice(0, 16).replace("T", " ");
const points = (x: number | null) => (x === null ? "-" : num(x, 1));

function status(p: PointView): string {
  if (p.alerted) return "ALERT";
  if (p.breached) return "breached";
  if (p.thresholdPoints === null && p.minRatio === null) return "not judged";
  return p.gapPoints === null ? "too few" : "ok";
}

/** Every group, the small ones included: "de 70.0% (100)", "fr n/a (4, too few)". */
const groupsOf = (p: PointView) =>
  p.groups
    .map((g) =>
      g.successRate === null ? `${g.key} n/a (${g.n}, too few)` : `${g.key} ${pct(g.successRate)} (${g.n})`,
    )
    .join("\n");

/** The series as a table, oldest window first, then the alerts in words. */
export function describeSeries(s: SeriesView): string[] {
  if (s.points.length === 0)
    return [`${s.model}: no bias-drift points yet (windows of ${fmtDuration(s.windowMs)})`];
  const table = new Table({
    head: ["window", "version", "attribute", "n", "groups (success, n)", "gap", "max", "status"],
    style: { head: [], border: [] },
  });
  for (const p of s.points)
    table.push([
      when(p.windowStart),
      p.version,
      p.attribute,
      num(p.n, 0),
      groupsOf(p),
      points(p.gapPoints),
      points(p.thresholdPoints),
      status(p),
    ]);
  const lines = [
    `${s.model}: success gap between groups on live traffic, windows of ${fmtDuration(s.windowMs)}`,
    table.toString(),
  ];
  lines.push(`${s.points.length} point(s), ${s.alerts.length} alert(s)`);
  for (const a of s.alerts)
    lines.push(
      `  ${when(a.windowStart)} ${a.version} ${a.attribute}: gap ${points(a.gapPoints)} points past the maximum ${points(a.thresholdPoints)} (previous ${points(a.previousGapPoints)})`,
    );
  return lines;
}

export function registerFairnessCommands(program: Command, ctx: Ctx) {
  const fairness = program.command("fairness").description("fairness on live traffic: the bias-drift series");
  const drift = fairness
    .command("drift")
    .description("per-group success gap of a model's live traffic, per version, attribute and window")
    // model@version, not --version: the program's own --version flag would take it.
    .argument("<model>", "a model, or model@version for one version")
    .option("--attribute <attribute>", "one attribute (or intersection, 'gender × age_band') only")
    // --since/--until, not --from/--to: commander would hand compute's --from to this command.
    .option("--since <time>", "windows starting at or after this time (ISO 8601)")
    .option("--until <time>", "windows ending at or before this time (ISO 8601)")
    .option("--limit <n>", "the newest n points (default 1000)", intArg)
    .action(async (target: string, o) => {
      const [model, version] = target.split("@") as [string, string | undefined];
      const s = await ctx.client().biasDrift.series(model, {
        version,
        attribute: o.attribute,
        from: o.since,
        to: o.until,
        limit: o.limit,
      });
      ctx.io.out(ctx.json() ? JSON.stringify(s, null, 2) : describeSeries(s).join("\n"));
    });
  drift
    .command("compute <model>")
    .description("compute ended windows in [from, to) now (backfill); a window already computed adds nothing")
    .requiredOption("--from <time>", "the first window's start, on a window boundary")
    .requiredOption("--to <time>", "the last window's end, on a window boundary, not in the future")
    .action(async (model: string, o) => {
      const out = await ctx.client().biasDrift.compute(model, o.from, o.to);
      if (ctx.json()) return ctx.io.out(JSON.stringify(out, null, 2));
      ctx.io.out(
        `${out.model}: ${out.windows.length} window(s) computed, ${out.points.length} new point(s), ${out.alerts.length} alert(s)`,
      );
      for (const a of out.alerts)
        ctx.io.out(
          `  ALERT ${when(a.windowStart)} ${a.version} ${a.attribute}: gap ${points(a.gapPoints)} points past the maximum ${points(a.thresholdPoints)}`,
        );
    });
}
