import type { Command } from "commander";
import type { Client } from "../../client/index.ts";
import type { Io } from "../output.ts";
import { readDataFile } from "../util.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean };
type Route = Awaited<ReturnType<Client["routes"]["get"]>>;

/** A model's gateway route in words: what a request naming it gets, then each setting. */
export function describeRoute(model: string, r: Route): string {
  const who = r.flag
    ? `the flag ${r.flag} picks the version per request (else ${r.split ? "the split" : "production"})`
    : r.split
      ? "the split"
      : "the production alias";
  const lines = [`${model}: a request naming ${model} goes to ${who}`];
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(9)} ${v}`);
  row(
    "split",
    r.split
      ? `${r.split.map((a) => `${a.version} ${a.weight}%`).join(" · ")}${r.splitScope ? ` (scope ${r.splitScope})` : ""}`
      : "none",
  );
  if (r.split) row("sticky", "per subject: x-modelgov-subject, else the OpenAI user field");
  row("fallback", r.fallback.length ? r.fallback.join(" → ") : "none");
  row("flag", r.flag ?? "none");
  row("pinning", r.allowPinning ? "allowed (model@1.2.3)" : "not allowed (aliases only)");
  row("shadow", r.shadow ? `${r.shadow.version}, ${r.shadow.share}% of plain calls mirrored` : "none");
  const ms = (o: Record<string, number | undefined> | undefined) =>
    Object.entries(o ?? {})
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
  if (r.timeouts && ms(r.timeouts)) row("timeouts", `${ms(r.timeouts)} (ms)`);
  if (r.breaker && ms(r.breaker)) row("breaker", ms(r.breaker));
  const prices = Object.entries(r.prices);
  if (prices.length)
    row(
      "prices",
      prices.map(([v, p]) => `${v} $${p.inputPer1kUsd}/$${p.outputPer1kUsd} per 1k in/out`).join(" · "),
    );
  return lines.join("\n");
}

/** `route get|set <model>`: the model's gateway route (docs/routing.md, A model's route). */
export function registerRouteCommands(program: Command, ctx: Ctx) {
  const route = program
    .command("route")
    .description("a model's gateway route: split, fallback chain, flag, pinning, shadow, timeouts, prices");
  const show = (model: string, r: Route) =>
    ctx.io.out(ctx.json() ? JSON.stringify(r, null, 2) : describeRoute(model, r));
  route
    .command("get <model>")
    .description("the model's route and what a request naming it gets")
    .action(async (model) => show(model, await ctx.client().routes.get(model)));
  route
    .command("set <model>")
    .description(
      "replace the model's route (PUT): a setting left out takes its default, so a split a rollout or experiment set is cleared unless the file keeps it (start from `route get --json`)",
    )
    .requiredOption("-f, --file <file>", "the route as YAML or JSON (- for stdin)")
    .action(async (model, o) =>
      show(model, await ctx.client().routes.set(model, readDataFile(o.file) as never)),
    );
}
