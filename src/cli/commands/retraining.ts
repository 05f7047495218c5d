import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type Command, InvalidArgumentError, Option } from "commander";
import type { Client } from "../../client/index.ts";
import type { TaskDetail, TaskView, Verdict } from "../../modules/retraining/index.ts";
import { type Io, printRows } from "../output.ts";
import { intArg, readDataFile } from "../util.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean; fail: (code: number) => void };

const STATE_CHOICES = [
  "active",
  "open",
  "training",
  "candidate_registered",
  "evaluated",
  "approved",
  "rolled_out",
  "closed",
  "dismissed",
];

function alphaArg(value: string) {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n >= 1)
    throw new InvalidArgumentError(`expected a level such as 0.05, got '${value}'`);
  return n;
}

function numberArg(value: string) {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got '${value}'`);
  return n;
}

const fmtP = (p: number | null) => (p === null ? "-" : p < 0.001 ? p.toExponential(1) : p.toFixed(3));

export function describeVerdict(v: Verdict): string[] {
  return [
    `evaluation: ${v.passed ? "passed" : "not passed"} (${v.metric} as ${v.basis.replace("_", " ")}, ${v.test === "mcnemar_exact" ? "exact McNemar" : "paired t"}, p ${fmtP(v.p)}, alpha ${v.alpha}; runs ${v.candidate.run} vs ${v.production.run} on ${v.suite.name})`,
    ...v.reasons.map((r) => `  ${r}`),
  ];
}

/** The task in words: what breached, where it stands, what it may do next. */
export function describeTask(t: TaskView): string[] {
  const lines = [
    `${t.id}: ${t.model}@${t.version} ${t.state} (rule ${t.rule}, metric ${t.metric})`,
    `opened ${t.openedAt} by ${t.openedBy}; ${t.evidenceCount} evidence entr${t.evidenceCount === 1 ? "y" : "ies"}; next: ${t.next.length ? t.next.join(", ") : "none (final)"}`,
  ];
  if (t.candidate) lines.push(`candidate: ${t.model}@${t.candidate.version}`);
  if (t.suiteHash) lines.push(`suite: ${t.suiteHash}`);
  if (t.evaluation) lines.push(...describeVerdict(t.evaluation));
  if (t.resolution) lines.push(`${t.state === "dismissed" ? "justification" : "note"}: ${t.resolution}`);
  return lines;
}

function describeDetail(t: TaskDetail): string[] {
  const lines = describeTask(t);
  lines.push("evidence (latest first shown last):");
  for (const e of t.evidence) {
    const summary = typeof e.evidence.summary === "string" ? e.evidence.summary : "";
    lines.push(`  ${e.addedAt} ${e.rule} on ${e.version} [${e.windowFrom} → ${e.windowTo}] ${summary}`);
  }
  lines.push("history:");
  for (const h of t.history)
    lines.push(`  ${h.at} ${h.from ?? "-"} → ${h.to} by ${h.actor}${h.reason ? `: ${h.reason}` : ""}`);
  return lines;
}

/** Writes a text stream to the CLI's output line by line (the export is line-oriented). */
async function writeLines(io: Io, body: ReadableStream<Uint8Array>) {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buf += dec.decode(chunk, { stream: true });
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      io.out(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      nl = buf.indexOf("\n");
    }
  }
  buf += dec.decode();
  if (buf) io.out(buf);
}

export function registerRetrainingCommands(program: Command, ctx: Ctx) {
  const retraining = program
    .command("retraining")
    .description(
      "retraining tasks opened by monitors: list, show, move through training → candidate → evaluated → approved → rolled out → closed, dismiss, export the failing slice",
    );
  const show = (t: TaskView) =>
    ctx.io.out(ctx.json() ? JSON.stringify(t, null, 2) : describeTask(t).join("\n"));

  retraining
    .command("list")
    .description("tasks, newest first, by model and state")
    .option("--model <model>", "only this model's tasks")
    .addOption(
      new Option("--state <state>", "one state, or active (every state before closed and dismissed)").choices(
        STATE_CHOICES,
      ),
    )
    .option("--limit <n>", "page size", intArg)
    .option("--cursor <cursor>", "continue from a previous page")
    .option("--all", "follow every page")
    .action(async (o) => {
      const c = ctx.client();
      const first = await c.retraining.list({
        model: o.model,
        state: o.state,
        limit: o.limit,
        cursor: o.cursor,
      });
      const items = [...first.items];
      let next = first.nextCursor;
      while (o.all && next) {
        const page = await c.retraining.list({
          model: o.model,
          state: o.state,
          limit: o.limit,
          cursor: next,
        });
        items.push(...page.items);
        next = page.nextCursor;
      }
      const rows = items.map((t) => ({
        id: t.id,
        model: t.model,
        version: t.version,
        state: t.state,
        metric: t.metric,
        candidate: t.candidate?.version ?? null,
        evidence: t.evidenceCount,
        openedAt: t.openedAt,
      }));
      printRows(ctx.io, ctx.json(), { items, nextCursor: next }, rows, [
        "id",
        "model",
        "version",
        "state",
        "metric",
        "candidate",
        "evidence",
        "openedAt",
      ]);
      if (!ctx.json() && next) ctx.io.out(`more: --cursor ${next}`);
    });

  retraining
    .command("show <task>")
    .description("a task with its latest evidence and its history")
    .action(async (task: string) => {
      const t = await ctx.client().retraining.get(task);
      ctx.io.out(ctx.json() ? JSON.stringify(t, null, 2) : describeDetail(t).join("\n"));
    });

  retraining
    .command("open <model> <version>")
    .description("report a breach by hand: opens a task for the model, or adds the evidence to the one open")
    .requiredOption("--rule <name>", "the rule that fired")
    .requiredOption(
      "-f, --evidence <file>",
      "the evidence as JSON or YAML: { metric, windows: [{ from, to, value, baseline, n, p, breached }], summary } (docs/retraining.md)",
    )
    .action(async (model: string, version: string, o) => {
      const out = await ctx.client().retraining.open({
        model,
        version,
        rule: o.rule,
        evidence: readDataFile(o.evidence) as never,
      });
      if (ctx.json()) return ctx.io.out(JSON.stringify(out, null, 2));
      ctx.io.out(out.opened ? "opened a new task" : `added the evidence to ${out.task.id}`);
      ctx.io.out(describeTask(out.task).join("\n"));
    });

  retraining
    .command("start-training <task>")
    .description("open → training")
    .option("--note <text>", "why, kept in the audit trail")
    .option(
      "--suite-hash <hash>",
      "pin the suite the candidate and production will be compared on (sha256:…)",
    )
    .action(async (task: string, o) =>
      show(await ctx.client().retraining.startTraining(task, { note: o.note, suiteHash: o.suiteHash })),
    );

  retraining
    .command("evaluate <task>")
    .description(
      "judge the registered candidate against production from two completed runs on the task's suite; exits 1 when it does not beat production",
    )
    .requiredOption("--candidate-run <id>", "a completed evaluation run of the candidate (evr_…)")
    .requiredOption("--production-run <id>", "a completed run of the production version on the same suite")
    .option("--alpha <level>", "the significance level (default 0.05)", alphaArg)
    .action(async (task: string, o) => {
      const out = await ctx.client().retraining.evaluate(task, {
        candidateRun: o.candidateRun,
        productionRun: o.productionRun,
        alpha: o.alpha,
      });
      ctx.io.out(ctx.json() ? JSON.stringify(out, null, 2) : describeTask(out.task).join("\n"));
      if (!out.verdict.passed) ctx.fail(1);
    });

  retraining
    .command("mark-approved <task>")
    .description(
      "evaluated → approved, when the candidate's approval is in force (an approval signed after the evaluation moves the task by itself)",
    )
    .action(async (task: string) => show(await ctx.client().retraining.markApproved(task)));

  retraining
    .command("mark-rolled-out <task>")
    .description(
      "approved → rolled_out, when the candidate is the production version (a promotion moves the task by itself)",
    )
    .action(async (task: string) => show(await ctx.client().retraining.markRolledOut(task)));

  retraining
    .command("close <task>")
    .description("rolled_out → closed: the retrained version holds up in production")
    .option("--note <text>", "kept on the task and in the audit trail")
    .action(async (task: string, o) => show(await ctx.client().retraining.close(task, o.note)));

  retraining
    .command("dismiss <task>")
    .description("end a task without retraining (needs retraining:dismiss: admin and stakeholder roles)")
    .requiredOption("--justification <text>", "why the breach needs no retraining (at least 20 characters)")
    .action(async (task: string, o) => show(await ctx.client().retraining.dismiss(task, o.justification)));

  retraining
    .command("dataset <task>")
    .description(
      "export the failing slice of the task's evidence windows: OpenAI fine-tuning JSONL, or a modelgov suite (JSON)",
    )
    .addOption(
      new Option("--format <format>", "what to write")
        .choices(["openai-jsonl", "suite"])
        .makeOptionMandatory(),
    )
    .addOption(
      new Option("--include <which>", "openai-jsonl: every failing request, or only the corrected ones")
        .choices(["all", "corrected"])
        .default("all"),
    )
    .option("--score-below <n>", "also requests whose feedback has only a score, below this", numberArg)
    .option("-o, --out <file>", "write to this file (default: standard output)")
    .action(async (task: string, o) => {
      const d = await ctx.client().retraining.dataset(task, {
        format: o.format,
        include: o.include,
        scoreBelow: o.scoreBelow,
      });
      const summary = `${d.counts.failing} failing requests in the evidence windows: ${d.counts.exportable} exportable, ${d.counts.withoutBody} without a kept body (not exported), ${d.counts.corrected} with a correction`;
      if (o.out) {
        await pipeline(Readable.fromWeb(d.body as never), createWriteStream(o.out));
        if (ctx.json()) ctx.io.out(JSON.stringify({ file: o.out, ...d.counts }, null, 2));
        else ctx.io.out(`wrote ${o.out}: ${summary}`);
        return;
      }
      await writeLines(ctx.io, d.body);
      ctx.io.err(summary);
    });
}
