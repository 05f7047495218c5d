import { type Command, InvalidArgumentError } from "commander";
import type { Client } from "../../client/index.ts";
import { type Io, printRecord, printRows } from "../output.ts";
import { readDataFile } from "../util.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean };

const FLAG_COLS = [
  "key",
  "type",
  "enabled",
  "defaultVariant",
  "variants",
  "rules",
  "revision",
  "updatedBy",
  "updatedAt",
];
const HISTORY_COLS = ["revision", "change", "actor", "at", "enabled", "defaultVariant"];

/** `--context tenant=internal`: a number or true/false as JSON reads it, else the text. */
export function contextPair(value: string, prev: Record<string, unknown> = {}) {
  const m = /^([^=]+)=(.*)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`expected name=value, got '${value}'`);
  const raw = m[2]!;
  let v: unknown = raw;
  if (/^(true|false|-?\d+(\.\d+)?([eE][-+]?\d+)?)$/.test(raw)) v = JSON.parse(raw);
  return { ...prev, [m[1]!]: v };
}

const rowOf = (f: { variants: object; rules: unknown[] } & Record<string, unknown>) => ({
  ...f,
  variants: Object.keys(f.variants).join(", "),
  rules: f.rules.length,
});

/** `flags list|get|set|enable|disable|rm|history|eval` (writes need flags:write: admin, engineering). */
export function registerFlagCommands(program: Command, ctx: Ctx) {
  const flags = program
    .command("flags")
    .description(
      "feature flags: typed variants, targeting rules, sticky rollouts, schedules (docs/flags.md)",
    );
  flags
    .command("list")
    .description("every flag")
    .action(async () => {
      const list = await ctx.client().flags.list();
      printRows(ctx.io, ctx.json(), list, list.map(rowOf), FLAG_COLS);
    });
  flags
    .command("get <key>")
    .description("a flag: its variants, rules and schedule")
    .option("--as-of <time>", "the flag as it was at this ISO 8601 instant")
    .action(async (key, o) => {
      const f = await ctx.client().flags.get(key, o.asOf);
      ctx.io.out(JSON.stringify(f, null, 2));
    });
  flags
    .command("set")
    .description(
      "create or replace a flag from a YAML or JSON file (refused, naming the variant, if it names an unservable version)",
    )
    .requiredOption(
      "-f, --file <file>",
      "the flag (key, type, variants, defaultVariant, rules, schedule); - reads stdin",
    )
    .action(async (o) => {
      const body = readDataFile(o.file) as Parameters<Client["flags"]["put"]>[0];
      const f = await ctx.client().flags.put(body);
      if (ctx.json()) return printRecord(ctx.io, true, f);
      ctx.io.out(`flag ${f.key} at revision ${f.revision} (${f.enabled ? "enabled" : "disabled"})`);
    });
  for (const action of ["enable", "disable"] as const)
    flags
      .command(`${action} <key>`)
      .description(
        action === "enable"
          ? "serve the flag's rules again (the release gate applies)"
          : "serve the default variant to everyone",
      )
      .action(async (key) => {
        const f = await ctx.client().flags[action](key);
        if (ctx.json()) return printRecord(ctx.io, true, f);
        ctx.io.out(`flag ${f.key} ${f.enabled ? "enabled" : "disabled"} (revision ${f.revision})`);
      });
  flags
    .command("rm <key>")
    .description("delete a flag (its history stays)")
    .action(async (key) => {
      await ctx.client().flags.remove(key);
      ctx.io.out(`deleted flag ${key}`);
    });
  flags
    .command("history <key>")
    .description("every change to a flag, newest first")
    .action(async (key) => {
      const revisions = await ctx.client().flags.history(key);
      const rows = revisions.map((r) => ({
        ...r,
        enabled: r.flag?.enabled ?? "",
        defaultVariant: r.flag?.defaultVariant ?? "",
      }));
      printRows(ctx.io, ctx.json(), revisions, rows, HISTORY_COLS);
    });
  flags
    .command("eval <key>")
    .description("evaluate a flag for a context, as an OpenFeature SDK would")
    .option(
      "--context <name=value>",
      "repeatable: an attribute (targetingKey=u1, tenant=internal)",
      contextPair,
      {},
    )
    .action(async (key, o) => {
      const r = await ctx.client().flags.evaluate(key, o.context);
      if (ctx.json()) return printRecord(ctx.io, true, r);
      ctx.io.out(
        r.reason === "ERROR"
          ? `${key}: ERROR ${r.errorCode} (${r.errorDetails})`
          : `${key} = ${JSON.stringify(r.value)} (variant ${r.variant}, ${r.reason})`,
      );
    });
}
