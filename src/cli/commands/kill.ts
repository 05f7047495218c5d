import { type Command, InvalidArgumentError } from "commander";
import type { Client } from "../../client/index.ts";
import type { KillSwitch } from "../../modules/kill-switches/index.ts";
import { type Io, printRows } from "../output.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean };

/** `kill engage|list|release`: switch a version or a provider off everywhere (docs/kill-switches.md). */
export function registerKillCommands(program: Command, ctx: Ctx) {
  const kill = program
    .command("kill")
    .description("kill switches: take a version or a whole provider out of service on every replica");
  const said = (s: KillSwitch, verb: string) => {
    if (ctx.json()) return ctx.io.out(JSON.stringify(s, null, 2));
    ctx.io.out(
      `${s.id}: ${s.scope} ${s.target} ${verb} by ${verb === "engaged" ? s.engagedBy : s.releasedBy}`,
    );
  };
  kill
    .command("engage")
    .description("switch a version (--version model@1.2.0) or a provider (--provider openai) off everywhere")
    .option("--version <model@version>", "the version to switch off")
    .option("--provider <name>", "the provider whose every version to switch off")
    .requiredOption("--reason <text>", "why: every refused caller is told")
    .action(async (o) => {
      if (!!o.version === !!o.provider)
        throw new InvalidArgumentError("give exactly one of --version and --provider");
      const body = o.version
        ? { scope: "version" as const, target: o.version as string, reason: o.reason as string }
        : { scope: "provider" as const, target: o.provider as string, reason: o.reason as string };
      said(await ctx.client().killSwitches.engage(body), "engaged");
    });
  kill
    .command("list")
    .description("kill switches, newest first")
    .option("--state <state>", "engaged, released or all", "all")
    .action(async (o) => {
      const page = await ctx.client().killSwitches.list({ state: o.state });
      printRows(ctx.io, ctx.json(), page, page.items, [
        "id",
        "state",
        "scope",
        "target",
        "reason",
        "engagedBy",
        "engagedAt",
        "releasedBy",
      ]);
    });
  kill
    .command("release <id>")
    .description("release a switch: the version or provider serves again (history stays)")
    .requiredOption("--reason <text>", "why it may serve again")
    .action(async (id, o) => said(await ctx.client().killSwitches.release(id, o.reason), "released"));
}
