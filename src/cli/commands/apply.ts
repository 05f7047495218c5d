import { readFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import type { Client, PlanItem } from "../../client/index.ts";
import type { Io } from "../output.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean };

/** Inlines `cardFile` references, read relative to the spec file, as `cardMarkdown`. */
export function loadSpec(file: string): unknown {
  const text = readFileSync(file, "utf8");
  const spec = parseYaml(text) as { models?: { versions?: Record<string, unknown>[] }[] } | null;
  const dir = path.dirname(path.resolve(file));
  for (const m of spec?.models ?? []) {
    for (const v of m.versions ?? []) {
      if (typeof v.cardFile === "string") {
        v.cardMarkdown = readFileSync(path.resolve(dir, v.cardFile), "utf8");
        delete v.cardFile;
      }
    }
  }
  return spec;
}

export function describePlan(changes: PlanItem[]): string[] {
  const short = (x: unknown) => {
    const s = JSON.stringify(x);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  };
  return changes.map((c) => {
    const details = Object.entries(c.changes ?? {}).map(
      ([k, d]) => `${k}: ${short(d.from)} → ${short(d.to)}`,
    );
    return `  ${c.action.padEnd(16)} ${c.target}${details.length ? `  (${details.join("; ")})` : ""}`;
  });
}

export function registerApplyCommand(program: Command, ctx: Ctx) {
  program
    .command("apply")
    .description("reconcile a governance spec (modelgov.yaml) with the server")
    .requiredOption(
      "-f, --file <file>",
      "the spec file (modelgov.yaml; fields: docs/reference/modelgov-yaml.md)",
    )
    .option("--dry-run", "print the plan; change nothing")
    .action(async (o) => {
      const r = await ctx.client().apply(loadSpec(o.file), !!o.dryRun);
      if (ctx.json()) return ctx.io.out(JSON.stringify(r, null, 2));
      if (r.changes.length === 0) return ctx.io.out("no changes: the server already matches the spec");
      ctx.io.out(
        r.dryRun
          ? `plan (dry run, nothing changed): ${r.changes.length} change(s)`
          : `applied ${r.changes.length} change(s)`,
      );
      for (const line of describePlan(r.changes)) ctx.io.out(line);
    });
}
