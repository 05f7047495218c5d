import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { runCli } from "./main.ts";

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

async function run(argv: string[], fetch?: Fetch, url = "http://modelgov.test") {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    io: { out: (s) => out.push(s), err: (s) => err.push(s) },
    env: { MODELGOV_URL: url, MODELGOV_TOKEN: "t" },
    ...(fetch ? { fetch } : {}),
  });
  return { code, out: out.join("\n"), err };
}

/** stderr under --json: exactly one line, one JSON object. */
function oneDocument(err: string[]): Record<string, unknown> {
  assert.equal(err.length, 1, `one line on stderr: ${err.join("\n")}`);
  const doc = JSON.parse(err[0]!);
  assert.equal(typeof doc, "object");
  return doc;
}

const problem = {
  type: "https://modelgov.dev/problems/validation",
  title: "Invalid request",
  status: 400,
  code: "validation",
  detail: "body.name: must be a slug",
  errors: [{ field: "body.name", reason: "must be a slug" }],
};
const answers =
  (status: number, body: string, type = "application/problem+json"): Fetch =>
  async () =>
    new Response(body, { status, headers: { "content-type": type } });

/** A 127.0.0.1 port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("--json errors: one JSON object on stderr, exit codes as without it", () => {
  test("an API failure: the problem document as the server sent it, exit 1", async () => {
    const argv = ["models", "create", "Bad_Name", "--owner", "x", "--risk-tier", "low"];
    const j = await run(["--json", ...argv], answers(400, JSON.stringify(problem)));
    assert.equal(j.code, 1);
    assert.deepEqual(oneDocument(j.err), problem);
    assert.equal(j.out, "");
    // --json after the command works too; without it, the plain lines as before.
    assert.deepEqual(
      oneDocument((await run([...argv, "--json"], answers(400, JSON.stringify(problem)))).err),
      problem,
    );
    const t = await run(argv, answers(400, JSON.stringify(problem)));
    assert.equal(t.code, 1);
    assert.deepEqual(t.err, ["error: body.name: must be a slug (HTTP 400)"]);
  });

  test("a failure that is not JSON (a proxy's page) still gives one object, with the status", async () => {
    const j = await run(["--json", "models", "list"], answers(502, "Bad Gateway", "text/html"));
    assert.equal(j.code, 1);
    assert.deepEqual(oneDocument(j.err), { status: 502, detail: "Bad Gateway" });
  });

  test("commander's own errors (missing option, unknown command, bad option) exit 2", async () => {
    const missing = await run(["--json", "models", "create", "m", "--risk-tier", "low"]);
    assert.equal(missing.code, 2);
    assert.deepEqual(oneDocument(missing.err), {
      code: "commander.missingMandatoryOptionValue",
      detail: "required option '--owner <owner>' not specified",
      exitCode: 2,
    });
    const unknown = await run(["models", "frobnicate", "--json"]);
    assert.equal(unknown.code, 2);
    const doc = oneDocument(unknown.err);
    assert.equal(doc.code, "commander.unknownCommand");
    assert.match(String(doc.detail), /frobnicate/);
    const option = await run(["--json", "models", "list", "--no-such-option"]);
    assert.equal(option.code, 2);
    assert.equal(oneDocument(option.err).code, "commander.unknownOption");
    // Without --json commander prints its text, as before.
    const plain = await run(["models", "create", "m", "--risk-tier", "low"]);
    assert.equal(plain.code, 2);
    assert.deepEqual(plain.err, ["error: required option '--owner <owner>' not specified"]);
  });

  test("a usage error an argument parser or a command finds: code usage, exit 2", async () => {
    const metric = await run(["--json", "versions", "update", "m", "1.0.0", "--metric", "oops"]);
    assert.equal(metric.code, 2);
    const doc = oneDocument(metric.err);
    assert.equal(doc.exitCode, 2);
    assert.match(String(doc.detail), /expected name=number, got 'oops'/);
    const days = await run(["--json", "demo", "monitor", "--days", "5"]);
    assert.equal(days.code, 2);
    assert.deepEqual(oneDocument(days.err), {
      code: "usage",
      detail: "--days: a whole number from 13 to 90",
      exitCode: 2,
    });
  });

  test("a server that cannot be reached: code unreachable with the URL, exit 1", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const j = await run(["--json", "models", "list"], undefined, url);
    assert.equal(j.code, 1);
    const doc = oneDocument(j.err);
    assert.equal(doc.code, "unreachable");
    assert.equal(doc.url, url);
    assert.equal(doc.cause, "ECONNREFUSED");
    const t = await run(["models", "list"], undefined, url);
    assert.equal(t.code, 1);
    assert.match(t.err.join("\n"), /^error: cannot reach the modelgov server/);
  });

  test("a failure a command finds itself (no server): code error, exit 1", async () => {
    const j = await run(["--json", "db", "grants"]);
    assert.equal(j.code, 1);
    const doc = oneDocument(j.err);
    assert.equal(doc.code, "error");
    assert.match(String(doc.detail), /least-privilege roles need a PostgreSQL server/);
    const file = path.join(mkdtempSync(path.join(tmpdir(), "modelgov-errors-")), "export.jsonl");
    writeFileSync(file, "not an export\n");
    const verify = await run(["--json", "audit", "verify", "--file", file]);
    assert.equal(verify.code, 1);
    assert.deepEqual(oneDocument(verify.err), {
      code: "error",
      detail: `${file} is not a modelgov audit export (no header line)`,
      exitCode: 1,
    });
  });
});
