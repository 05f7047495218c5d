import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { Command } from "commander";
import { buildProgram, runCli } from "./cli/main.ts";
import { createClient } from "./client/index.ts";
import { startDemoServer } from "./test-support/demo-server.ts";
import { createShell, fencedBlocks, inlineCommands } from "./test-support/walkthrough.ts";

/**
 * The README as a test: its walkthrough blocks (marked `<!-- walkthrough -->`) run in order, as
 * written, against one fresh demo server; every other `modelgov …` line in the README and
 * docs/ must at least parse (an existing subcommand, existing options, its arguments).
 */

const ROOT = path.resolve(import.meta.dirname, "..");
const README = readFileSync(path.join(ROOT, "README.md"), "utf8");

/** Lines the test stands in for, and why. */
const SKIP = { "npm start": "the demo server this test starts" };
/** The SDK snippet's server address is the README reader's; the test's server listens elsewhere. */
const README_URL = "http://127.0.0.1:7070";

describe("the README walkthrough runs as written on a fresh demo workspace", () => {
  let demo: Awaited<ReturnType<typeof startDemoServer>>;
  before(async () => {
    // File arguments (-f examples/…) are relative to the checkout, as the README says.
    process.chdir(ROOT);
    demo = await startDemoServer("readme");
  });
  after(() => demo?.close());

  test("every walkthrough line succeeds (or fails as its comment says), and the SDK snippet gets answers", async (t) => {
    const blocks = fencedBlocks(README).filter((b) => b.walkthrough);
    assert.ok(blocks.length >= 3, `found ${blocks.length} walkthrough blocks`);
    const shell = createShell({
      env: { MODELGOV_URL: demo.url, MODELGOV_TOKEN: demo.admin },
      skip: SKIP,
      modelgov: async (argv, env) => {
        const out: string[] = [];
        const err: string[] = [];
        const code = await runCli(argv, {
          io: { out: (s) => out.push(s), err: (s) => err.push(s) },
          env,
        });
        return { code, out: out.join("\n"), err: err.join("\n") };
      },
    });
    const transcript: string[] = [];
    const times: [number, string][] = [];
    for (const block of blocks) {
      if (block.lang === "ts") {
        await runSdkSnippet(block.lines.join("\n"), shell.vars, transcript);
        continue;
      }
      assert.equal(block.lang, "sh", `README.md:${block.line}: a walkthrough block is sh or ts`);
      for (const [i, line] of block.lines.entries()) {
        const where = `README.md:${block.line + i}: ${line.trim()}`;
        const t0 = Date.now();
        const r = await shell.run(line).catch((e: Error) => {
          throw new Error(`${where}\n${e.message}`);
        });
        if (!r) continue;
        times.push([Date.now() - t0, line.trim().slice(0, 60)]);
        transcript.push(`$ ${line.trim()}`, r.out, r.err);
        // A line that is meant to be refused says so first in its comment: "# 412: …".
        const refused = /^(\d{3})\b/.exec(r.comment)?.[1];
        if (refused) {
          assert.equal(r.code, 1, `${where}\nexpected a refusal (HTTP ${refused})\n${r.out}\n${r.err}`);
          assert.match(r.err, new RegExp(`HTTP ${refused}`), where);
        } else assert.equal(r.code, 0, `${where}\nexit ${r.code}\n${r.out}\n${r.err}`);
      }
    }
    const slowest = times.sort((a, b) => b[0] - a[0])[0];
    t.diagnostic(
      `${times.length} lines in ${times.reduce((n, [ms]) => n + ms, 0)} ms; slowest ${slowest?.[0]} ms: ${slowest?.[1]}`,
    );
    const text = transcript.join("\n");
    // The record months later: 1.3.0 in production, approved by both stakeholders.
    assert.match(text, /support-assistant as of \S+\n {2}production: 1\.3\.0/, text);
    assert.match(text, /approve by erin as engineering[\s\S]*approve by cora as compliance/, text);
    assert.match(text, /SDK: openai answered .+\nSDK: anthropic answered .+/);

    const admin = createClient({ baseUrl: demo.url, token: demo.admin });
    assert.equal(
      (await admin.models.state("support-assistant", new Date().toISOString())).production,
      "1.3.0",
    );
    assert.equal((await admin.audit.verify()).ok, true);
  });

  /**
   * Runs the README's TypeScript snippet with the official SDKs: its imports become dynamic
   * imports, its server address the test's. The snippet is plain JavaScript plus imports, so
   * nothing needs compiling; an SDK error (a 403 from the gateway, say) fails the test.
   */
  async function runSdkSnippet(code: string, vars: Record<string, string>, transcript: string[]) {
    const body = code
      .replace(/^import (\w+) from "([^"]+)";$/gm, 'const $1 = (await import("$2")).default;')
      .replaceAll(README_URL, demo.url);
    assert.doesNotMatch(body, /^import /m, "the snippet imports only default exports");
    const printed: string[] = [];
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
    const run = new AsyncFunction("process", "console", body) as (p: unknown, c: unknown) => Promise<void>;
    await run(
      { env: vars },
      { log: (v: unknown) => printed.push(typeof v === "string" ? v : JSON.stringify(v)) },
    );
    assert.equal(printed.length, 2, printed.join("\n"));
    transcript.push(`SDK: openai answered ${printed[0]}`, `SDK: anthropic answered ${printed[1]}`);
  }
});

/** The modelgov command lines of a Markdown text: inline spans and the lines of sh blocks. */
function commandLines(file: string, text: string): { where: string; line: string }[] {
  const found = inlineCommands(text).map((line) => ({ where: file, line: line.replace(/\s+/g, " ") }));
  for (const b of fencedBlocks(text)) {
    if (b.lang !== "sh" && b.lang !== "bash") continue;
    const joined = b.lines
      .join("\n")
      .replace(/\\\n\s*/g, " ")
      .split("\n");
    for (const [i, l] of joined.entries()) {
      if (l.trimStart().startsWith("#")) continue;
      const m = /(?:^|\s)(modelgov \S.*)$/.exec(l.replace(/\s#\s.*$/, ""));
      if (m) found.push({ where: `${file}:${b.line + i}`, line: m[1]!.trim() });
    }
  }
  return found;
}

/** Words as a reader means them: quotes removed; `$X`, `$(…)` and `<x>` stand for a value. */
const argvOf = (line: string) =>
  (line.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map((w) => w.replace(/^(["'])(.*)\1$/, "$2")).slice(1);

/** Syntax summaries, not commands: `[--watch]`, `pause|resume|abort`, `modelgov <command>`. */
const isSynopsis = (line: string) => /\[-|\]|^modelgov <|\w\|\w/.test(line.replace(/"[^"]*"|'[^']*'/g, ""));

/** The subcommand a line names and whether each of its options exists (docs mention commands in passing). */
function namesExisting(program: Command, argv: string[]): string | null {
  let cmd = program;
  let i = 0;
  for (; i < argv.length; i++) {
    if (argv[i] === "--json") continue;
    if (argv[i] === "--url") {
      i++;
      continue;
    }
    const sub = cmd.commands.find((c) => c.name() === argv[i] || c.aliases().includes(argv[i]!));
    if (!sub) break;
    cmd = sub;
  }
  if (cmd === program) return `no command '${argv[0]}'`;
  const known = new Set(["--help", "-h"]);
  for (let c: Command | null = cmd; c; c = c.parent)
    for (const o of c.options) for (const f of [o.long, o.short]) if (f) known.add(f);
  for (const w of argv.slice(i).map((x) => x.replace(/^\[|\]$/g, "")))
    if (/^-/.test(w) && !known.has(w.split("=")[0]!)) return `'${cmd.name()}' has no option ${w}`;
  return null;
}

test("every modelgov command in the README parses; every one in docs/ names an existing subcommand and options", async () => {
  const readme = commandLines("README.md", README);
  const docs = readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .flatMap((f) => commandLines(`docs/${f}`, readFileSync(path.join(ROOT, "docs", f), "utf8")));
  assert.ok(readme.length > 40 && docs.length > 20, `found ${readme.length} + ${docs.length} commands`);
  const failures: string[] = [];
  const quiet = { io: { out: () => {}, err: () => {} }, env: {} };
  for (const { where, line } of docs) {
    // pause|resume|abort: the first alternative stands for the rest.
    const argv = argvOf(line.replace(/[[\]]/g, " ")).map((w) => w.split("|")[0]!);
    const problem = namesExisting(
      buildProgram(quiet, () => {}),
      argv,
    );
    if (problem) failures.push(`${where}: ${line}: ${problem}`);
  }
  // The README's commands are parsed as the CLI parses them (arguments, option values, required
  // options), stopping where the action would run.
  for (const { where, line } of readme) {
    if (isSynopsis(line)) continue;
    const err: string[] = [];
    const program = buildProgram({ io: { out: () => {}, err: (s) => err.push(s) }, env: {} }, () => {});
    const parsed = new Error("parsed");
    program.hook("preAction", () => {
      throw parsed;
    });
    try {
      await program.parseAsync(argvOf(line), { from: "user" });
      failures.push(`${where}: ${line}: ran no command`);
    } catch (e) {
      // A help request parses: commander prints the help and stops.
      const help = (e as { code?: string }).code === "commander.helpDisplayed";
      if (e !== parsed && !help) failures.push(`${where}: ${line}: ${err.join(" ") || (e as Error).message}`);
    }
  }
  assert.deepEqual(failures, []);
});
