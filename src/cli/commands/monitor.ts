import type { Command } from "commander";
import type { Client } from "../../client/index.ts";
import type { Io } from "../output.ts";
import { pathTable } from "../path-table.ts";
import { readDataFile } from "../util.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean };
type Window = NonNullable<Awaited<ReturnType<Client["monitor"]["status"]>>["rules"][number]["last"]>;

const fmt = (x: number | null) =>
  x === null ? "–" : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3);
const day = (iso: string) => iso.replace(/:00\.000Z$/, "Z").replace("T00:00Z", "");

function windowLine(w: Window): string {
  const mark = w.status === "breach" ? "✗" : w.status === "ok" ? "✓" : "·";
  return `${mark} ${day(w.windowStart)}  ${w.rule}  ${fmt(w.value)} (baseline ${fmt(w.baseline)}, threshold ${fmt(w.threshold)}, n ${w.n}${w.p === null ? "" : `, p ${w.p.toPrecision(2)}`})  ${w.reason}`;
}

/** `monitor status|history|config|set|rm|run <model>`: the production version's monitor (docs/monitoring.md). */
export function registerMonitorCommands(program: Command, ctx: Ctx) {
  const monitor = program
    .command("monitor")
    .description("monitoring: rules that watch the production version against its baseline");
  monitor
    .command("status <model>")
    .description("the production version watched, its baseline, and each rule's state and last window")
    .action(async (model) => {
      const s = await ctx.client().monitor.status(model);
      if (ctx.json()) return ctx.io.out(JSON.stringify(s, null, 2));
      const lines = [
        `${s.model}@${s.version ?? "(no production version)"}  monitor ${s.configuredFor === "*" ? "(workspace default)" : ""}${s.enabled ? "" : " disabled"}`.trim(),
        s.baseline
          ? `baseline ${s.baseline.from} → ${s.baseline.to}${s.baseline.complete ? "" : " (still collecting)"}`
          : "baseline: none yet",
      ];
      for (const r of s.rules)
        lines.push(
          `  ${r.state.padEnd(9)} ${r.name}: ${r.text ?? r.kind} (streak ${r.streak}/${r.windows}${r.firedAt ? `, fired ${r.firedAt}` : ""})`,
          ...(r.last ? [`            last: ${windowLine(r.last)}`] : []),
        );
      if (s.paths)
        lines.push(
          `success by path (${s.paths.strategy} router ${s.paths.version}, ${s.paths.from} → ${s.paths.to}):`,
          pathTable(s.paths.paths),
        );
      ctx.io.out(lines.join("\n"));
    });
  monitor
    .command("history <model>")
    .description("every judged window of the model's rules, oldest first")
    .option("--rule <name>", "one rule only")
    .option("--from <time>", "windows ending after this time (ISO 8601)")
    .option("--to <time>", "windows starting before this time (ISO 8601)")
    .option("--limit <n>", "at most this many windows", "500")
    .action(async (model, o) => {
      const h = await ctx.client().monitor.history(model, {
        ...(o.rule ? { rule: o.rule } : {}),
        ...(o.from ? { from: o.from } : {}),
        ...(o.to ? { to: o.to } : {}),
        limit: Number(o.limit),
      });
      if (ctx.json()) return ctx.io.out(JSON.stringify(h, null, 2));
      ctx.io.out(
        h.windows.length ? h.windows.map((w) => windowLine(w!)).join("\n") : `${model}: no judged window yet`,
      );
    });
  monitor
    .command("config <model>")
    .description("the monitor configuration that applies to the model (its own or the workspace default *)")
    .action(async (model) => ctx.io.out(JSON.stringify(await ctx.client().monitor.config(model), null, 2)));
  monitor
    .command("set <model>")
    .description("set the model's monitor (model * for the workspace default): baseline and rules")
    .requiredOption("-f, --file <file>", "the monitor as YAML or JSON (- for stdin)")
    .action(async (model, o) => {
      const r = await ctx.client().monitor.setConfig(model, readDataFile(o.file) as never);
      if (ctx.json()) return ctx.io.out(JSON.stringify(r, null, 2));
      ctx.io.out(`${model}: monitor set, ${r.config.rules.length} rule(s)`);
    });
  monitor
    .command("rm <model>")
    .description("remove the model's own monitor (the workspace default applies again, if any)")
    .action(async (model) => {
      await ctx.client().monitor.removeConfig(model);
      if (!ctx.json()) ctx.io.out(`${model}: monitor removed`);
    });
  monitor
    .command("run <model>")
    .description("judge the model's ended windows now (the server does it every minute)")
    .action(async (model) => {
      const r = await ctx.client().monitor.run(model);
      if (ctx.json()) return ctx.io.out(JSON.stringify(r, null, 2));
      ctx.io.out(
        [
          `${model}: ${r.judged} window(s) judged`,
          ...r.fired.map((f) => `  ${f.event}: ${f.summary}`),
          ...r.resolved.map((x) => `  resolved: ${x}`),
        ].join("\n"),
      );
    });
}
