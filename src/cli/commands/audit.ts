import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import type { Client } from "../../client/index.ts";
import type { Checkpoint, VerifyResult } from "../../modules/audit/index.ts";
import { CliError, printError } from "../errors.ts";
import { type Io, printRecord, printRows } from "../output.ts";
import { collect, intArg, readText } from "../util.ts";
import { registerAsOf } from "./approvals.ts";

/** The audit module's pure verification, loaded by the commands that verify (it costs every other command's start-up). */
const auditLib = () => import("../../modules/audit/index.ts");

type Ctx = { client: () => Client; io: Io; json: () => boolean; fail: (code: number) => void };

const EVENT_COLS = ["position", "at", "actor", "action", "subjectType", "subjectId", "reason"];

function printVerdict(ctx: Ctx, r: VerifyResult, notes: string[]) {
  if (!r.ok) ctx.fail(1);
  if (ctx.json()) return ctx.io.out(JSON.stringify({ ...r, notes }, null, 2));
  for (const n of notes) ctx.io.err(`note: ${n}`);
  const cps = r.checkpoints.checked
    ? `; ${r.checkpoints.checked} checkpoint(s) hold, the latest at position ${r.checkpoints.latest}`
    : "; no checkpoints checked";
  if (r.ok) {
    ctx.io.out(
      `ok: ${r.checked} events, chain intact up to position ${r.head.position} (${r.head.hash})${cps}`,
    );
    return;
  }
  const b = r.firstBroken!;
  ctx.io.out(`BROKEN at position ${b.position}: ${b.reason}${b.eventId ? ` (event ${b.eventId})` : ""}`);
  ctx.io.out(`  ${b.detail}`);
  ctx.io.out(`  ${r.checked} events read; the chain links correctly up to position ${r.head.position}${cps}`);
}

/** An http(s) URL is fetched (a log store, a webhook receiver, an object store); anything else is a file. */
async function readSource(source: string): Promise<string> {
  if (!/^https?:\/\//i.test(source)) return readText(source);
  const res = await fetch(source, {
    headers: { accept: "application/json, application/x-ndjson, text/plain" },
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok) throw new Error(`--checkpoints ${source}: HTTP ${res.status}`);
  return res.text();
}

/**
 * Checkpoints from files or URLs: JSON lines (the checkpoint file, an export, a shipped stdout
 * log with other lines among them) or a JSON array. A checkpoint seen twice counts once.
 */
async function checkpointsFrom(sources: string[], io: Io): Promise<Checkpoint[]> {
  const seen = new Map<string, Checkpoint>();
  for (const source of sources) {
    const parsed = (await auditLib()).parseCheckpoints(await readSource(source));
    for (const b of parsed.badLines.slice(0, 5))
      io.err(`warning: ${source} line ${b.line}: ${b.reason}, ignored`);
    if (parsed.badLines.length > 5)
      io.err(`warning: ${source}: ${parsed.badLines.length - 5} more such lines`);
    if (parsed.ignored)
      io.err(`note: ${source}: ${parsed.ignored} JSON value(s) that are not checkpoints skipped`);
    for (const c of parsed.checkpoints) seen.set(c.signature, c);
  }
  return [...seen.values()];
}

/**
 * Verifies an export here, not on the server: the verdict then rests on this code, the
 * checkpoints given and the public keys given, never on what the server says about itself.
 */
async function verifyExport(ctx: Ctx, text: string, source: string, extra: Checkpoint[], keyFiles: string[]) {
  const { parseExport, verifyChain } = await auditLib();
  const parsed = parseExport(text);
  const notes: string[] = [];
  if (!parsed.header) {
    throw new CliError(`${source} is not a modelgov audit export (no header line)`);
  }
  for (const b of parsed.badLines) {
    printError(ctx.io, ctx.json(), `${source} line ${b.line}: ${b.reason}`);
    ctx.fail(1);
  }
  const keys = keyFiles.map((f) => readText(f));
  if (!keys.length) {
    keys.push(parsed.header.publicKey);
    notes.push(
      `checkpoint signatures checked with the public key inside ${source} (${parsed.header.keyId}); pin your own copy with --public-key`,
    );
  }
  const seen = new Set(extra.map((c) => c.signature));
  const checkpoints = [...extra, ...parsed.checkpoints.filter((c) => !seen.has(c.signature))];
  printVerdict(
    ctx,
    verifyChain(parsed.events, { checkpoints, publicKey: keys, expectedHead: parsed.header.head }),
    notes,
  );
}

export function registerAuditCommands(program: Command, ctx: Ctx) {
  const audit = program
    .command("audit")
    .description("the tamper-evident audit log: list, verify the hash chain and checkpoints, export, as-of");
  registerAsOf(audit, ctx);

  audit
    .command("log")
    .description("audit events, oldest first (--desc: newest first)")
    .option("--subject-type <type>", "model, version, token, ...")
    .option("--subject <id>", "subject id")
    .option("--actor <name>", "only events by this actor")
    .option("--action <action>", "an action, or a prefix such as version.*")
    .option("--since <time>", "ISO 8601 time with offset")
    .option("--until <time>", "ISO 8601 time with offset (exclusive)")
    .option("--desc", "newest first")
    .option("--limit <n>", "page size", intArg)
    .option("--cursor <cursor>", "continue from a previous page")
    .option("--all", "follow every page")
    .action(async (o) => {
      const query = (cursor?: string) =>
        ctx.client().audit.events({
          subjectType: o.subjectType,
          subjectId: o.subject,
          actor: o.actor,
          action: o.action,
          since: o.since,
          until: o.until,
          order: o.desc ? "desc" : undefined,
          limit: o.limit,
          cursor,
        });
      const first = await query(o.cursor);
      const items = [...first.items];
      let next = first.nextCursor;
      while (o.all && next) {
        const p = await query(next);
        items.push(...p.items);
        next = p.nextCursor;
      }
      printRows(ctx.io, ctx.json(), { items, nextCursor: next }, items, EVENT_COLS);
      if (!ctx.json() && next) ctx.io.out(`more: --cursor ${next}`);
    });

  audit
    .command("verify")
    .description(
      "recompute the hash chain and name the first broken link (exit 1 when broken); with --checkpoints, also prove the log still holds every checkpointed head",
    )
    .option(
      "--checkpoints <file|url>",
      "repeatable: checkpoints kept outside the server, a file or an http(s) URL (JSON lines, or a JSON array)",
      collect,
    )
    .option("--file <export.jsonl>", "verify an exported log offline, without the server")
    .option(
      "--public-key <pem>",
      "repeatable: trusted Ed25519 public key(s) for checkpoint signatures",
      collect,
    )
    .action(async (o) => {
      const keyFiles: string[] = o.publicKey ?? [];
      // Read before the export is fetched: every checkpoint then predates the head exported.
      const extra = await checkpointsFrom(o.checkpoints ?? [], ctx.io);
      if (o.file) return verifyExport(ctx, readText(o.file), o.file, extra, keyFiles);
      if (o.checkpoints || keyFiles.length)
        return verifyExport(ctx, await ctx.client().audit.export(), "the server's export", extra, keyFiles);
      printVerdict(ctx, await ctx.client().audit.verify(), []);
    });

  audit
    .command("export")
    .description("the whole log as JSON Lines with its signed checkpoints, for external archiving")
    .option("-o, --output <file>", "write to this file instead of stdout")
    .action(async (o) => {
      const text = await ctx.client().audit.export();
      if (!o.output) return ctx.io.out(text.trimEnd());
      writeFileSync(o.output, text);
      const parsed = (await auditLib()).parseExport(text);
      ctx.io.out(
        `wrote ${parsed.events.length} events and ${parsed.checkpoints.length} checkpoints to ${o.output} (head position ${parsed.header?.head.position ?? "?"})`,
      );
    });

  audit
    .command("checkpoint")
    .description(
      "sign the chain head now and send it to the server's checkpoint sinks (file, webhook, stdout)",
    )
    .action(async () => {
      const r = await ctx.client().audit.checkpoint();
      if (ctx.json()) return printRecord(ctx.io, true, r);
      if (!r.checkpoint) return ctx.io.out("the audit log is empty: nothing to checkpoint");
      printRecord(ctx.io, false, { ...r.checkpoint, file: r.file, webhook: r.webhook, stdout: r.stdout });
    });

  audit
    .command("public-key")
    .description("the server's checkpoint signing public key (PEM), to pin with verify --public-key")
    .action(async () => {
      const k = await ctx.client().audit.publicKey();
      if (ctx.json()) return printRecord(ctx.io, true, k);
      ctx.io.out(k.publicKey.trimEnd());
    });
}
