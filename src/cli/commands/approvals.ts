import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import type { ApprovalRequestView, AsOfView, Client } from "../../client/index.ts";
import { type Io, printRecord, printRows } from "../output.ts";
import { collect, intArg, readDataFile } from "../util.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean };

/** "computed" or "attested by <name>": who vouches for a piece of evidence. */
export function vouchedBy(e: { provenance?: string; attachedBy?: string }): string {
  return e.provenance === "computed" ? "computed" : `attested by ${e.attachedBy ?? "a person"}`;
}

function printRequest(io: Io, r: ApprovalRequestView) {
  io.out(`${r.id}  ${r.model}@${r.version}  ${r.status.toUpperCase()}${r.inForce ? " (in force)" : ""}`);
  io.out(`  requested by ${r.requestedBy} at ${r.createdAt}: ${r.summary}`);
  if (r.evidenceRefs.length) io.out(`  evidence: ${r.evidenceRefs.join(", ")}`);
  io.out(
    `  needs: ${Object.entries(r.requirements.roles)
      .map(([role, n]) => `${n}× ${role}`)
      .join(
        ", ",
      )}; evidence: ${r.requirements.evidence.join(", ") || "none"} (rules: ${r.requirements.rules.join(", ")})`,
  );
  for (const e of r.evidence)
    io.out(
      `  evidence ${e.kind} ${e.passed === null ? "no verdict" : e.passed ? "passed" : "failed"}, ${vouchedBy(e)}`,
    );
  for (const s of r.signoffs)
    io.out(
      `  ${s.decision === "approve" ? "✔" : "✘"} ${s.signer} as ${s.role} at ${s.signedAt}${s.comment ? `: ${s.comment}` : ""}`,
    );
  for (const u of r.unmet) io.out(`  ✗ ${u.requirement}: ${u.reason}`);
  if (r.voidReason) io.out(`  voided: ${r.voidReason}`);
}

const requestRows = (rs: ApprovalRequestView[]) =>
  rs.map((r) => ({
    ...r,
    target: `${r.model}@${r.version}`,
    signed: r.signoffs.map((s) => `${s.signer}/${s.role}`),
    unmet: r.unmet.map((u) => u.requirement),
  }));
const REQUEST_COLS = ["id", "target", "status", "requestedBy", "signed", "unmet", "createdAt"];

function hashArg(value: string) {
  if (!/^sha256:[a-f0-9]{64}$/.test(value)) throw new InvalidArgumentError("expected sha256:<64 hex digits>");
  return value;
}

export function printAsOf(io: Io, json: boolean, s: AsOfView) {
  if (json) return io.out(JSON.stringify(s, null, 2));
  io.out(`${s.model} as of ${s.at}`);
  io.out(`  production: ${s.production ?? "(none)"}`);
  io.out(
    `  aliases: ${
      Object.entries(s.aliases)
        .map(([a, v]) => `${a}→${v}`)
        .join(", ") || "(none)"
    }`,
  );
  io.out(`  versions: ${s.versions.map((v) => `${v.version} ${v.status}`).join(", ") || "(none)"}`);
  if (s.approvals.length === 0) io.out("  approvals in force: none");
  for (const a of s.approvals) {
    io.out(
      `  approval ${a.requestId} for ${a.version}, approved ${a.approvedAt} (requested by ${a.requestedBy}: ${a.summary})`,
    );
    for (const so of a.signoffs)
      io.out(
        `    ${so.decision} by ${so.signer} as ${so.role} at ${so.signedAt}${so.comment ? `: ${so.comment}` : ""}`,
      );
    io.out(
      `    evidence: card ${a.cardHash ?? "-"}${a.evidence.map((e) => `; ${e.kind} ${e.contentHash} (${e.passed ? "passed" : "failed"}, ${vouchedBy(e)})`).join("")}`,
    );
  }
}

/** `audit as-of <time> <model>`: attached to the audit command group. */
export function registerAsOf(audit: Command, ctx: Ctx) {
  audit
    .command("as-of <time> <model>")
    .description("the model at a past time: production, aliases, approvals in force and their evidence")
    .action(async (time, model) =>
      printAsOf(ctx.io, ctx.json(), await ctx.client().approvals.asOf(model, time)),
    );
}

export function registerApprovalCommands(program: Command, ctx: Ctx) {
  const ap = program.command("approvals").description("request, sign and inspect approvals");
  ap.command("request <model> <version>")
    .description("ask for sign-off on a version (production needs the approvals the policy asks for)")
    .requiredOption("-s, --summary <text>", "what is being approved and why")
    .option("--evidence <ref>", "repeatable: what signers should look at", collect)
    .option(
      "-q, --quiet",
      "print only the request's id, for scripts: ID=$(modelgov approvals request ... -q)",
    )
    .action(async (model, version, o) => {
      const r = await ctx.client().approvals.request(model, version, o.summary, o.evidence ?? []);
      if (o.quiet) return ctx.io.out(r.id);
      if (ctx.json()) return printRecord(ctx.io, true, r);
      printRequest(ctx.io, r);
    });
  for (const decision of ["approve", "reject"] as const) {
    ap.command(`${decision} <requestId>`)
      .description(`${decision} a request, signing for one of your roles`)
      .requiredOption("--as <role>", "the role you sign for (your token must hold it)")
      .option("-m, --comment <text>", "why, kept with the signature", "")
      .option("--evidence <ref>", "repeatable: what you looked at", collect)
      .action(async (id, o) => {
        const r = await ctx
          .client()
          .approvals.sign(id, { role: o.as, decision, comment: o.comment, evidenceRefs: o.evidence ?? [] });
        if (ctx.json()) return printRecord(ctx.io, true, r);
        printRequest(ctx.io, r);
      });
  }
  ap.command("show <requestId>")
    .description("one request: its target, summary, evidence, signatures and what is still missing")
    .action(async (id) => {
      const r = await ctx.client().approvals.get(id);
      if (ctx.json()) return printRecord(ctx.io, true, r);
      printRequest(ctx.io, r);
    });
  ap.command("list [target]")
    .description("approval requests, newest first: of a model, or of one version (model@version)")
    // model@version, not --version: the program's own --version flag would take it and print the CLI's version.
    .option("--model <model>", "the model (or give model or model@version as the argument)")
    .option("--status <status>", "only requests in this status: pending | approved | rejected | voided")
    .option("--limit <n>", "at most this many", intArg)
    .action(async (target: string | undefined, o) => {
      const [model, version] = target
        ? (target.split("@") as [string, string | undefined])
        : [o.model, undefined];
      const rs = await ctx.client().approvals.list({ model, version, status: o.status, limit: o.limit });
      printRows(ctx.io, ctx.json(), rs, requestRows(rs), REQUEST_COLS);
    });
  ap.command("inbox")
    .description("pending requests your roles can sign")
    .action(async () => {
      const rs = await ctx.client().approvals.inbox();
      printRows(
        ctx.io,
        ctx.json(),
        rs,
        requestRows(rs).map((r, i) => ({ ...r, signAs: rs[i]!.canSignAs })),
        ["id", "target", "requestedBy", "signAs", "signed", "createdAt"],
      );
    });
  ap.command("requirements <model> <version>")
    .description("what the policy asks before this version may reach production, and what is met")
    .action(async (model, version) =>
      printRecord(ctx.io, ctx.json(), await ctx.client().approvals.requirements(model, version)),
    );
  const policy = ap
    .command("policy")
    .description("the approval policy (also settable in modelgov.yaml under approvals:)");
  policy
    .command("get")
    .description(
      "print the approval policy: sign-off rules (what each matches, the roles and evidence it asks) and release gates",
    )
    .action(async () => {
      const p = await ctx.client().approvals.policy();
      if (ctx.json()) return printRecord(ctx.io, true, p);
      printRows(
        ctx.io,
        false,
        p,
        p.rules.map((r) => ({ ...r, roles: Object.entries(r.roles).map(([k, n]) => `${n}×${k}`) })),
        ["name", "match", "roles", "evidence", "signoffTtlDays"],
      );
      if (p.rules.length === 0)
        ctx.io.out("no rules: the default applies (1× engineering, complete card, 90-day sign-offs)");
      ctx.io.out("");
      if (p.gates.length === 0) ctx.io.out("no release gates");
      else
        printRows(
          ctx.io,
          false,
          p,
          p.gates.map((g) => ({
            ...g,
            match: JSON.stringify(g.match ?? {}),
            require: Object.keys(g)
              .filter((k) => !["name", "match", "suite", "suites"].includes(k))
              .join(", "),
          })),
          ["name", "match", "require"],
        );
    });
  policy
    .command("set")
    .description(
      "replace the rules (and the gates, when the file has gates:); gates left out stay as they are",
    )
    .requiredOption(
      "-f, --file <file>",
      "YAML or JSON: { rules: [...], gates: [...] }; fields: docs/reference/approval-policy.md",
    )
    .option("--dry-run", "print what would change and change nothing")
    .option("--allow-removals", "allow the write to remove rules or gates (refused otherwise)")
    .action(async (o) => {
      const r = await ctx.client().approvals.setPolicy(readDataFile(o.file) as never, {
        dryRun: o.dryRun,
        allowRemovals: o.allowRemovals,
      });
      if (ctx.json()) return printRecord(ctx.io, true, r);
      const sign = { added: "+", removed: "-", changed: "~" } as const;
      if (r.changes.length === 0) ctx.io.out("no changes");
      for (const c of r.changes) ctx.io.out(`${sign[c.change]} ${c.kind} ${c.name} (${c.change})`);
      ctx.io.out(
        r.dryRun
          ? "dry run: nothing written"
          : `policy written: ${r.policy.rules.length} rules, ${r.policy.gates.length} gates`,
      );
    });

  const ev = program
    .command("evidence")
    .description(
      "benchmark and fairness evidence, referenced by content hash: reports you attach are attested by you; evaluation runs attach computed evidence",
    );
  ev.command("attach <model> <version>")
    .description("attach a benchmark or fairness report to a version, by its content hash")
    .requiredOption("--kind <kind>", "benchmark | fairness")
    .option("--file <file>", "the report: its SHA-256 becomes the content hash (and its path the uri)")
    .option("--uri <uri>", "where the report lives")
    .option("--hash <sha256>", "content hash, when not given --file", hashArg)
    .option("--passed", "the evidence passed")
    .option("--failed", "the evidence failed")
    .option("--summary <text>", "what the report found", "")
    .action(async (model, version, o) => {
      if (!!o.passed === !!o.failed) throw new InvalidArgumentError("give exactly one of --passed, --failed");
      const hash = o.file
        ? `sha256:${createHash("sha256").update(readFileSync(o.file)).digest("hex")}`
        : o.hash;
      if (!hash) throw new InvalidArgumentError("give --file or --hash");
      const e = await ctx.client().approvals.attachEvidence(model, version, {
        kind: o.kind,
        uri: o.uri ?? o.file,
        contentHash: hash,
        passed: !!o.passed,
        summary: o.summary,
      });
      printRecord(ctx.io, ctx.json(), e);
    });
  ev.command("list <model> <version>")
    .description("the evidence attached to a version, and who vouches for each")
    .action(async (model, version) => {
      const es = await ctx.client().approvals.evidence(model, version);
      const rows = es.map((e) => ({ ...e, vouchedBy: vouchedBy(e) }));
      printRows(ctx.io, ctx.json(), es, rows, [
        "id",
        "kind",
        "passed",
        "vouchedBy",
        "contentHash",
        "uri",
        "attachedBy",
        "attachedAt",
      ]);
    });
}
