import type { Command } from "commander";
import type { Client } from "../../client/index.ts";
import type { Io } from "../output.ts";
import { readDataFile } from "../util.ts";
import { describeSync } from "./rollouts.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean };

/** `traffic get|set|rm <model>`: the cluster route a containerised model's decisions steer (docs/containers.md). */
export function registerTrafficCommands(program: Command, ctx: Ctx) {
  const traffic = program
    .command("traffic")
    .description("containerised models: the HTTPRoute or VirtualService whose weights follow rollouts");
  const show = (v: Awaited<ReturnType<Client["traffic"]["get"]>>) => {
    if (ctx.json()) return ctx.io.out(JSON.stringify(v, null, 2));
    const t = v.target;
    ctx.io.out(
      [
        `${v.model}: ${t.kind} ${t.namespace}/${t.name}, rule ${t.ruleIndex}, weights summing to ${t.total}`,
        ...Object.entries(t.backends).map(([version, backend]) => `  ${version} → ${backend}`),
        `sync ${describeSync(v.sync)}`,
      ].join("\n"),
    );
  };
  traffic
    .command("get <model>")
    .description("the model's traffic target and whether the route carries the weights modelgov wants")
    .action(async (model) => show(await ctx.client().traffic.get(model)));
  traffic
    .command("set <model>")
    .description(
      "point the model at its route: kind, namespace, name, ruleIndex, backends (version → backend), total",
    )
    .requiredOption("-f, --file <file>", "the target as YAML or JSON (- for stdin)")
    .action(async (model, o) => show(await ctx.client().traffic.set(model, readDataFile(o.file) as never)));
  traffic
    .command("rm <model>")
    .description("stop steering the model's route (its weights stay as they are)")
    .action(async (model) => {
      await ctx.client().traffic.remove(model);
      if (!ctx.json()) ctx.io.out(`${model}: traffic target removed; the route keeps its weights`);
    });
}
