import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import type { Client } from "../../client/index.ts";
import type { CardValidation } from "../../modules/cards/index.ts";
import { type Io, printRecord, printRows } from "../output.ts";
import { intArg, readDataFile, readText } from "../util.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean; fail: (code: number) => void };

function printValidation(io: Io, v: CardValidation) {
  if (v.complete) return io.out(`card complete: all ${v.required.length} required sections present`);
  io.out(`card incomplete: ${v.missing.length} of ${v.required.length} required sections missing`);
  for (const m of v.missing) io.out(`  - ${m.section} (${m.title}): ${m.reason}`);
}

export function registerCardCommands(program: Command, ctx: Ctx) {
  const card = program
    .command("card")
    .description("model cards: revisions, validation, Hugging Face import/export");
  card
    .command("get <model> <version>")
    .description("show the version's card (latest revision, or --revision) as Markdown, with its validation")
    .option("--revision <n>", "an archived revision", intArg)
    .action(async (model, version, o) => {
      const c = await ctx.client().cards.get(model, version, o.revision);
      if (ctx.json()) return ctx.io.out(JSON.stringify(c, null, 2));
      printRecord(ctx.io, false, {
        revision: c.revision,
        source: c.source,
        createdBy: c.createdBy,
        createdAt: c.createdAt,
        contentHash: c.contentHash,
      });
      ctx.io.out("");
      ctx.io.out(await ctx.client().cards.exportHuggingFace(model, version, c.revision));
      printValidation(ctx.io, c.validation);
    });
  card
    .command("set <model> <version>")
    .description("write a new card revision from a file (unchanged content keeps the revision)")
    .requiredOption(
      "-f, --file <file>",
      "card content as YAML or JSON (title, metadata, sections, extraSections)",
    )
    .action(async (model, version, o) => {
      const c = await ctx.client().cards.put(model, version, readDataFile(o.file) as never);
      if (ctx.json()) return ctx.io.out(JSON.stringify(c, null, 2));
      ctx.io.out(
        c.changed
          ? `archived revision ${c.revision}`
          : `unchanged: revision ${c.revision} already holds this card`,
      );
      printValidation(ctx.io, c.validation);
    });
  card
    .command("import <model> <version>")
    .description("import a Hugging Face model card (README.md) as a new revision")
    .requiredOption("-f, --file <file>", "a Hugging Face README.md (YAML front matter + Markdown)")
    .action(async (model, version, o) => {
      const c = await ctx.client().cards.importHuggingFace(model, version, readText(o.file));
      if (ctx.json()) return ctx.io.out(JSON.stringify(c, null, 2));
      ctx.io.out(
        c.changed
          ? `imported as revision ${c.revision}`
          : `unchanged: revision ${c.revision} already holds this card`,
      );
      printValidation(ctx.io, c.validation);
    });
  card
    .command("export <model> <version>")
    .description("export the card as a Hugging Face README.md (YAML front matter + Markdown)")
    .option("--revision <n>", "an archived revision", intArg)
    .option("-o, --out <file>", "write to a file instead of stdout")
    .action(async (model, version, o) => {
      const md = await ctx.client().cards.exportHuggingFace(model, version, o.revision);
      if (o.out) writeFileSync(o.out, md);
      else ctx.io.out(md);
    });
  card
    .command("validate <model> <version>")
    .description("check the latest card against the required sections; exits 1 when incomplete")
    .action(async (model, version) => {
      const v = await ctx.client().cards.validate(model, version);
      if (ctx.json()) ctx.io.out(JSON.stringify(v, null, 2));
      else printValidation(ctx.io, v);
      if (!v.complete) ctx.fail(1);
    });
  card
    .command("revisions <model> <version>")
    .description("the card's archived revisions: number, source, author, time, content hash")
    .action(async (model, version) => {
      const r = await ctx.client().cards.revisions(model, version);
      printRows(ctx.io, ctx.json(), r, r, ["revision", "source", "createdBy", "createdAt", "contentHash"]);
    });
}
