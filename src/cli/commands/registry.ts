import type { Command } from "commander";
import type { Client } from "../../client/index.ts";
import type { Model, Version } from "../../modules/registry/index.ts";
import { type Io, printRecord, printRows } from "../output.ts";
import { collect, collectMetric, intArg, readDataFile } from "../util.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean };

const modelRow = (m: Model) => ({ ...m, aliases: Object.entries(m.aliases).map(([a, v]) => `${a}→${v}`) });
const MODEL_COLS = ["name", "owner", "riskTier", "useCases", "aliases", "latestVersion", "versionCount"];
const VERSION_COLS = ["model", "version", "status", "provider", "providerModelId", "aliases", "createdAt"];

/** Follows cursors when --all is given. */
async function pages<T>(
  fetchPage: (cursor?: string) => Promise<{ items: T[]; nextCursor: string | null }>,
  all: boolean,
) {
  const first = await fetchPage();
  const items = [...first.items];
  let next = first.nextCursor;
  while (all && next) {
    const p = await fetchPage(next);
    items.push(...p.items);
    next = p.nextCursor;
  }
  return { items, nextCursor: next };
}

function filters(cmd: Command) {
  return cmd
    .option("-q, --q <text>", "free text")
    .option("--use-case <useCase>", "only those for this use case")
    .option("--owner <owner>", "only those of this owning team")
    .option("--tag <tag>", "only those with this tag")
    .option("--status <status>", "only versions in this status (a model: with a version in it)")
    .option("--provider <provider>", "only versions served by this provider (a model: with one)")
    .option("--limit <n>", "page size", intArg)
    .option("--cursor <cursor>", "continue from a previous page")
    .option("--all", "follow every page");
}

export function registerRegistryCommands(program: Command, ctx: Ctx) {
  const models = program.command("models").description("list, show, create and update models");
  filters(models.command("list").description("list and search models"))
    .option("--risk-tier <tier>", "only models of this risk tier: low | medium | high | critical")
    .action(async (o) => {
      const r = await pages(
        (cursor) => ctx.client().models.list({ ...o, all: undefined, cursor: cursor ?? o.cursor }),
        !!o.all,
      );
      printRows(ctx.io, ctx.json(), r, r.items.map(modelRow), MODEL_COLS);
      if (!ctx.json() && r.nextCursor) ctx.io.out(`more: --cursor ${r.nextCursor}`);
    });
  models
    .command("get <name>")
    .description("show one model: owner, risk tier, use cases, aliases, latest version")
    .action(async (name) => printRecord(ctx.io, ctx.json(), modelRow(await ctx.client().models.get(name))));
  models
    .command("create <name>")
    .description("register a new model (a slug name); its versions come with `versions register`")
    .requiredOption("--owner <owner>", "the owning team")
    .requiredOption("--risk-tier <tier>", "low | medium | high | critical")
    .option("--description <text>", "what the model is for", "")
    .option("--use-case <useCase>", "repeatable", collect)
    .option("--tag <tag>", "repeatable", collect)
    .action(async (name, o) => {
      const m = await ctx.client().models.create({
        name,
        owner: o.owner,
        riskTier: o.riskTier,
        description: o.description,
        useCases: o.useCase ?? [],
        tags: o.tag ?? [],
      });
      printRecord(ctx.io, ctx.json(), modelRow(m));
    });
  models
    .command("update <name>")
    .description("change a model's owner, risk tier, description, use cases or tags")
    .option("--owner <owner>", "the new owning team")
    .option("--risk-tier <tier>", "low | medium | high | critical")
    .option("--description <text>", "what the model is for")
    .option("--use-case <useCase>", "repeatable; replaces the list", collect)
    .option("--tag <tag>", "repeatable; replaces the list", collect)
    .action(async (name, o) => {
      const m = await ctx.client().models.update(name, {
        owner: o.owner,
        riskTier: o.riskTier,
        description: o.description,
        useCases: o.useCase,
        tags: o.tag,
      });
      printRecord(ctx.io, ctx.json(), modelRow(m));
    });
  models
    .command("state <name> <time>")
    .description("what the model looked like at a time: production, aliases, statuses")
    .action(async (name, time) => {
      const s = await ctx.client().models.state(name, time);
      if (ctx.json()) return printRecord(ctx.io, true, s);
      ctx.io.out(`${s.model} at ${s.at}: production → ${s.production ?? "(none)"}`);
      printRows(
        ctx.io,
        false,
        s,
        s.versions.map((v) => ({
          ...v,
          aliases: Object.entries(s.aliases)
            .filter(([, x]) => x === v.version)
            .map(([a]) => a),
        })),
        ["version", "status", "aliases"],
      );
    });

  const versions = program.command("versions").description("register, list and move model versions");
  filters(versions.command("list [model]").description("list and search versions")).action(
    async (model, o) => {
      const r = await pages(
        (cursor) => ctx.client().versions.list({ ...o, all: undefined, model, cursor: cursor ?? o.cursor }),
        !!o.all,
      );
      printRows(ctx.io, ctx.json(), r, r.items, VERSION_COLS);
      if (!ctx.json() && r.nextCursor) ctx.io.out(`more: --cursor ${r.nextCursor}`);
    },
  );
  versions
    .command("get <model> <version>")
    .description("show one version: status, provider, metrics, aliases")
    .action(async (model, version) =>
      printRecord(ctx.io, ctx.json(), await ctx.client().versions.get(model, version)),
    );
  versions
    .command("register <model>")
    .description("register a new version of a model from a YAML or JSON file")
    .requiredOption(
      "-f, --file <file>",
      "version as YAML or JSON (version, provider, providerModelId, ...); fields: docs/reference/version-file.md",
    )
    .action(async (model, o) =>
      printRecord(
        ctx.io,
        ctx.json(),
        await ctx.client().versions.register(model, readDataFile(o.file) as never),
      ),
    );
  versions
    .command("status <model> <version> <status>")
    .description("move through development → canary → production → deprecated → retired")
    .option("--reason <text>", "why, kept in the version's history and the audit log", "")
    .action(async (model, version, status, o) => {
      const v: Version = await ctx.client().versions.setStatus(model, version, status, o.reason);
      printRecord(ctx.io, ctx.json(), v, ["model", "version", "status", "aliases"]);
    });
  versions
    .command("update <model> <version>")
    .description("change the mutable fields: metrics, limitations, tags")
    .option("--metric <name=value>", "repeatable; merged into the metrics", collectMetric)
    .option("--limitation <text>", "repeatable; replaces the list", collect)
    .option("--tag <tag>", "repeatable; replaces the list", collect)
    .action(async (model, version, o) => {
      const current = o.metric ? await ctx.client().versions.get(model, version) : null;
      const v = await ctx.client().versions.update(model, version, {
        metrics: o.metric ? { ...current!.metrics, ...o.metric } : undefined,
        limitations: o.limitation,
        tags: o.tag,
      });
      printRecord(ctx.io, ctx.json(), v, ["model", "version", "metrics", "limitations", "tags"]);
    });
  versions
    .command("history <model> <version>")
    .description("the version's status changes: when, from, to, by whom, why")
    .action(async (model, version) => {
      const h = await ctx.client().versions.history(model, version);
      printRows(ctx.io, ctx.json(), h, h, ["at", "from", "to", "actor", "reason"]);
    });

  const alias = program.command("alias").description("movable aliases: production, canary, custom");
  alias
    .command("list <model>")
    .description("the model's aliases and the version each points to")
    .action(async (model) => {
      const m = await ctx.client().models.get(model);
      const rows = Object.entries(m.aliases).map(([a, v]) => ({ alias: a, version: v }));
      printRows(ctx.io, ctx.json(), m.aliases, rows, ["alias", "version"]);
    });
  alias
    .command("set <model> <alias> <version>")
    .description("point an alias at a version (production needs the approvals the policy asks for)")
    .option("--reason <text>", "why, kept in the alias history and the audit log", "")
    .action(async (model, a, version, o) => {
      const v = await ctx.client().aliases.set(model, a, version, o.reason);
      printRecord(ctx.io, ctx.json(), v, ["model", "version", "status", "aliases"]);
    });
  alias
    .command("rm <model> <alias>")
    .description("remove an alias")
    .option("--reason <text>", "why, kept in the alias history and the audit log", "")
    .action(async (model, a, o) => {
      await ctx.client().aliases.remove(model, a, o.reason);
      if (!ctx.json()) ctx.io.out(`removed alias ${a} of ${model}`);
      else ctx.io.out(JSON.stringify({ removed: a }));
    });
  alias
    .command("history <model> [alias]")
    .description("the alias moves of a model (or of one alias): when, from, to, by whom, why")
    .action(async (model, a) => {
      const h = await ctx.client().aliases.history(model, a);
      printRows(ctx.io, ctx.json(), h, h, ["at", "alias", "previousVersion", "version", "actor", "reason"]);
    });
  alias
    .command("at <model> <alias> <time>")
    .description("which version the alias pointed to at a time")
    .action(async (model, a, time) => {
      const s = await ctx.client().models.state(model, time);
      const target = s.aliases[a] ?? null;
      if (ctx.json()) ctx.io.out(JSON.stringify({ model, alias: a, at: s.at, version: target }));
      else
        ctx.io.out(
          target ? `${model}@${a} at ${s.at} → ${target}` : `${model}@${a} pointed nowhere at ${s.at}`,
        );
    });

  program
    .command("recommend")
    .description("production versions suitable for a use case, best first by a metric")
    .requiredOption("--use-case <useCase>", "the use case the versions must serve")
    .requiredOption("--metric <metric>", "the metric to rank by (a version's metrics key)")
    .option("--order <order>", "asc | desc (default: asc for latency/cost/error metrics)")
    .option("--limit <n>", "at most this many", intArg)
    .action(async (o) => {
      const r = await ctx
        .client()
        .recommend({ useCase: o.useCase, metric: o.metric, order: o.order, limit: o.limit });
      const rows = r.items.map((i) => ({
        rank: i.rank,
        model: i.version.model,
        version: i.version.version,
        [r.metric]: i.value,
        serving: i.serving ? "yes" : "kept",
        provider: i.version.provider,
      }));
      printRows(ctx.io, ctx.json(), r, rows, ["rank", "model", "version", r.metric, "serving", "provider"]);
    });
}
