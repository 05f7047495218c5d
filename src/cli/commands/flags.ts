import { type Command, InvalidArgumentError } from "commander";
import { isHeld } from "../../client/flags.ts";
import type { Client } from "../../client/index.ts";
import type { FlagChangeRequest } from "../../modules/flags/index.ts";
import { type Io, printRecord, printRows } from "../output.ts";
import { readDataFile } from "../util.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean; fail: (code: number) => void };

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

const CHANGE_COLS = [
  "id",
  "key",
  "change",
  "status",
  "requestedBy",
  "needs",
  "signed",
  "createdAt",
  "expiresAt",
];

/** What a change request still needs, in words: `compliance ×1, engineering ×1`. */
function needs(r: FlagChangeRequest): string {
  const ok = r.signoffs.filter((s) => s.decision === "approve");
  return Object.entries(r.requirements.roles)
    .map(
      ([role, n]) =>
        [role, n - new Set(ok.filter((s) => s.role === role).map((s) => s.signer)).size] as const,
    )
    .filter(([, left]) => left > 0)
    .map(([role, left]) => `${role} ×${left}`)
    .join(", ");
}
const changeRow = (r: FlagChangeRequest) => ({
  ...r,
  needs: r.status === "pending" ? needs(r) : "",
  signed: r.signoffs
    .map((s) => `${s.signer} (${s.role}${s.decision === "reject" ? ", rejected" : ""})`)
    .join(", "),
});

const rowOf = (f: { variants: object; rules: unknown[] } & Record<string, unknown>) => ({
  ...f,
  variants: Object.keys(f.variants).join(", "),
  rules: f.rules.length,
});

/** `flags list|get|set|enable|disable|rm|history|eval|changes|change|sign|withdraw|check`. */
export function registerFlagCommands(program: Command, ctx: Ctx) {
  /** A write's answer: the flag, or the change request the approval policy holds it as. */
  const done = (out: unknown, line: (f: Exclude<typeof out, FlagChangeRequest>) => string) => {
    if (ctx.json()) return printRecord(ctx.io, true, out as Record<string, unknown>);
    if (isHeld(out))
      return ctx.io.out(
        `held for sign-offs: change ${out.id} to flag ${out.key} (${out.change}) needs ${needs(out)}; sign with \`modelgov flags sign ${out.id} --role <role>\``,
      );
    ctx.io.out(line(out));
  };
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
    .option("--reason <text>", "why: kept on the audit event and on a held change")
    .action(async (o) => {
      const body = readDataFile(o.file) as Parameters<Client["flags"]["put"]>[0];
      const f = await ctx.client().flags.put(body, o.reason);
      done(f, (x) => {
        const flag = x as Exclude<typeof f, FlagChangeRequest>;
        return `flag ${flag.key} at revision ${flag.revision} (${flag.enabled ? "enabled" : "disabled"})`;
      });
    });
  for (const action of ["enable", "disable"] as const)
    flags
      .command(`${action} <key>`)
      .description(
        action === "enable"
          ? "serve the flag's rules again (the release gate applies)"
          : "serve the default variant to everyone",
      )
      .option("--reason <text>", "why: kept on the audit event and on a held change")
      .action(async (key, o) => {
        const f = await ctx.client().flags[action](key, o.reason);
        done(f, (x) => {
          const flag = x as Exclude<typeof f, FlagChangeRequest>;
          return `flag ${flag.key} ${flag.enabled ? "enabled" : "disabled"} (revision ${flag.revision})`;
        });
      });
  flags
    .command("rm <key>")
    .description("delete a flag (its history stays)")
    .option("--reason <text>", "why: kept on the audit event and on a held change")
    .action(async (key, o) => {
      const held = await ctx.client().flags.remove(key, o.reason);
      if (held) return done(held, () => "");
      if (!ctx.json()) ctx.io.out(`deleted flag ${key}`);
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
  flags
    .command("changes")
    .description("flag changes held for sign-offs by the approval policy (flagChanges), newest first")
    .option("--key <key>", "one flag's changes")
    .option("--status <status>", "pending, applied, rejected, withdrawn, superseded or lapsed")
    .action(async (o) => {
      const list = await ctx.client().flags.changes({ key: o.key, status: o.status });
      printRows(ctx.io, ctx.json(), list, list.map(changeRow), CHANGE_COLS);
    });
  flags
    .command("change <id>")
    .description("one held change: the flag as it would leave it, who signed, what it still needs")
    .action(async (id) => {
      const r = await ctx.client().flags.change(id);
      if (ctx.json()) return printRecord(ctx.io, true, r);
      printRecord(ctx.io, false, changeRow(r));
    });
  flags
    .command("sign <id>")
    .description(
      "approve (or --reject) a held flag change for a role you hold; the last approval needed applies it",
    )
    .requiredOption("--role <role>", "the role you sign for")
    .option("--reject", "reject the change (it ends)")
    .option("--comment <text>", "why", "")
    .action(async (id, o) => {
      const r = await ctx.client().flags.sign(id, {
        role: o.role,
        decision: o.reject ? "reject" : "approve",
        comment: o.comment,
      });
      if (ctx.json()) return printRecord(ctx.io, true, r);
      ctx.io.out(
        r.status === "applied"
          ? `change ${r.id} applied: flag ${r.key} at revision ${r.appliedRevision}`
          : r.status === "pending"
            ? `signed; change ${r.id} still needs ${needs(r)}`
            : `change ${r.id} ${r.status}`,
      );
    });
  flags
    .command("withdraw <id>")
    .description("withdraw a held flag change you asked for")
    .action(async (id) => {
      const r = await ctx.client().flags.withdraw(id);
      if (ctx.json()) return printRecord(ctx.io, true, r);
      ctx.io.out(`change ${r.id} withdrawn`);
    });
  flags
    .command("check")
    .description(
      "flags the policy's segments refuse as things stand now (a newer evaluation run or a voided approval since they were written); exits 1 if any",
    )
    .action(async () => {
      const bad = await ctx.client().flags.violations();
      if (ctx.json()) ctx.io.out(JSON.stringify(bad, null, 2));
      else if (!bad.length) ctx.io.out("every flag passes the segment gate");
      else for (const b of bad) for (const e of b.errors) ctx.io.out(`${b.key}: ${e.field}: ${e.reason}`);
      if (bad.length) ctx.fail(1);
    });
}
