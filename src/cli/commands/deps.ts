import type { Command } from "commander";
import type { Client } from "../../client/index.ts";
import { type Io, printRows } from "../output.ts";
import { pathTable } from "../path-table.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean };

const pct = (x: number) => `${(Math.round(x * 1000) / 10).toFixed(1)}%`;

/** `deps <model> [--window 7d]`: the blast radius of changing a model, from the gateway's request log. */
export function registerDepsCommand(program: Command, ctx: Ctx) {
  program
    .command("deps <model>")
    .description("who calls a model, per client and version, with errors and last seen (the blast radius)")
    .option("--window <duration>", "how far back: 15m, 24h, 7d, 2w", "24h")
    .action(async (model, o) => {
      const d = await ctx.client().dependents(model, o.window);
      if (ctx.json()) return ctx.io.out(JSON.stringify(d, null, 2));
      const rows = d.dependents.map((x) => ({
        ...x,
        version: x.version ?? "(none)",
        errorRate: pct(x.errorRate),
      }));
      printRows(ctx.io, false, d, rows, ["client", "version", "requests", "errors", "errorRate", "lastSeen"]);
      const t = d.totals;
      ctx.io.out(
        `${d.model}, last ${d.window} (since ${d.since}): ${t.requests} request(s) from ${t.clients} client(s) over ${t.versions} version(s), ${t.errors} error(s)`,
      );
      for (const r of d.paths)
        ctx.io.out(`paths of ${r.strategy} router ${d.model}@${r.version}:\n${pathTable(r.paths)}`);
      for (const r of d.calledBy)
        ctx.io.out(
          `called by router ${r.model}@${r.version} (${r.strategy}) through tier ${r.viaTiers.join(", ")}:\n${pathTable(r.paths)}`,
        );
    });
}
