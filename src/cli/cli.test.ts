import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { seedDemo } from "../demo/seed.ts";
import { runCliAs } from "../test-support/cli.ts";
import { type Harness, openHarness, storeTargets } from "../test-support/stores.ts";
import { runCli } from "./main.ts";

describe("CLI against the API, in-process", () => {
  let h: Harness;
  const dir = mkdtempSync(path.join(tmpdir(), "modelgov-cli-"));
  let dora = "";
  before(async () => {
    h = await openHarness(storeTargets()[0]!);
    await seedDemo(h.services);
    dora = await h.tokenFor("dora", ["admin"]);
  });
  after(async () => h.cleanup());

  const run = (...argv: string[]) => runAs(dora, ...argv);
  const runAs = (token: string, ...argv: string[]) => runCliAs(h.fetch, token, argv);

  test("models list prints a table, --json prints JSON", async () => {
    const t = await run("models", "list");
    assert.equal(t.code, 0, t.err);
    assert.match(t.out, /support-assistant/);
    assert.match(t.out, /production→1\.1\.0/);
    const j = await run("--json", "models", "list", "--use-case", "customer-support");
    assert.equal(JSON.parse(j.out).items[0].name, "support-assistant");
  });

  test("usage errors exit 2, API failures exit 1 with the problem's field and reason", async () => {
    assert.equal((await run("models", "frobnicate")).code, 2);
    assert.equal((await run("alias", "set", "support-assistant")).code, 2);
    const missing = await run("versions", "get", "support-assistant", "9.9.9");
    assert.equal(missing.code, 1);
    assert.match(missing.err, /not found/);
    const bad = await run("models", "create", "Bad_Name", "--owner", "x", "--risk-tier", "low");
    assert.equal(bad.code, 1);
    assert.match(bad.err, /body\.name: must be a slug/);
    assert.equal(bad.err.split("must be a slug").length, 2, `said once: ${bad.err}`);
  });

  test("create a model, register a version from a file, move it through its lifecycle", async () => {
    assert.equal(
      (
        await run(
          "models",
          "create",
          "summarizer",
          "--owner",
          "team-b",
          "--risk-tier",
          "low",
          "--use-case",
          "summarization",
        )
      ).code,
      0,
    );
    const file = path.join(dir, "v.yaml");
    writeFileSync(
      file,
      "version: 1.0.0\nprovider: simulator\nproviderModelId: sim-sum\nmetrics: { rouge_l: 0.41 }\n",
    );
    const reg = await run("--json", "versions", "register", "summarizer", "-f", file);
    assert.equal(reg.code, 0, reg.err);
    assert.equal(JSON.parse(reg.out).createdBy, "dora");
    const illegal = await run("versions", "status", "summarizer", "1.0.0", "deprecated");
    assert.equal(illegal.code, 1);
    assert.match(illegal.err, /allowed: canary, production, retired/);
    // No approval, no production: the refusal lists what is missing.
    const gated = await run("alias", "set", "summarizer", "production", "1.0.0", "--reason", "launch");
    assert.equal(gated.code, 1);
    assert.match(gated.err, /HTTP 412/);
    assert.match(gated.err, /role:engineering: needs 1 engineering sign-off/);
    assert.equal((await run("alias", "set", "summarizer", "beta", "1.0.0", "--reason", "launch")).code, 0);
    const hist = await run("alias", "history", "summarizer");
    assert.match(hist.out, /launch/);
    const upd = await run(
      "--json",
      "versions",
      "update",
      "summarizer",
      "1.0.0",
      "--metric",
      "rouge_l=0.43",
      "--metric",
      "latency_p95_ms=700",
    );
    assert.deepEqual(JSON.parse(upd.out).metrics, { rouge_l: 0.43, latency_p95_ms: 700 });
    assert.equal((await run("versions", "update", "summarizer", "1.0.0", "--metric", "oops")).code, 2);
  });

  test("alias at and models state answer what production was at a time", async () => {
    const now = new Date(h.clock.now().getTime() + 1000).toISOString();
    const r = await run("alias", "at", "support-assistant", "production", now);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /→ 1\.1\.0/);
    const early = await run(
      "--json",
      "alias",
      "at",
      "support-assistant",
      "production",
      "2020-01-01T00:00:00Z",
    );
    assert.equal(JSON.parse(early.out).version, null);
  });

  test("recommend ranks production versions", async () => {
    const r = await run("--json", "recommend", "--use-case", "customer-support", "--metric", "success_rate");
    const items = JSON.parse(r.out).items;
    assert.deepEqual(
      items.map((i: { version: { version: string } }) => i.version.version),
      ["1.1.0", "1.0.0"],
    );
  });

  test("card export, import and validate (exit 1 when incomplete)", async () => {
    const out = path.join(dir, "card.md");
    assert.equal((await run("card", "export", "support-assistant", "1.1.0", "-o", out)).code, 0);
    assert.match(readFileSync(out, "utf8"), /^---\nlicense: apache-2.0/);
    assert.equal((await run("card", "validate", "support-assistant", "1.1.0")).code, 0);
    const thin = path.join(dir, "thin.md");
    writeFileSync(thin, "---\nlicense: mit\n---\n# Thin card\n\n## Model Details\n\nOnly details.\n");
    const imp = await run("card", "import", "summarizer", "1.0.0", "-f", thin);
    assert.equal(imp.code, 0, imp.err);
    assert.match(imp.out, /imported as revision 1/);
    const v = await run("card", "validate", "summarizer", "1.0.0");
    assert.equal(v.code, 1);
    assert.match(v.out, /intended_use \(Intended Use\): absent/);
    const revs = await run("--json", "card", "revisions", "summarizer", "1.0.0");
    assert.equal(JSON.parse(revs.out)[0].source, "huggingface");
  });

  test("apply --dry-run prints the plan; apply applies; a second apply has no changes", async () => {
    const spec = path.join(dir, "modelgov.yaml");
    writeFileSync(
      path.join(dir, "router.md"),
      "---\nlicense: mit\n---\n# Router\n\n## Model Details\n\nA router.\n",
    );
    writeFileSync(
      spec,
      `apiVersion: modelgov/v1\nmodels:\n  - name: router\n    owner: ops\n    riskTier: low\n    versions:\n      - version: 0.1.0\n        provider: simulator\n        providerModelId: sim-router\n        cardFile: router.md\n`,
    );
    const dry = await run("apply", "-f", spec, "--dry-run");
    assert.equal(dry.code, 0, dry.err);
    assert.match(dry.out, /plan \(dry run, nothing changed\): 2 change/);
    assert.match(dry.out, /register_version\s+router@0\.1\.0/);
    assert.equal((await run("models", "get", "router")).code, 1);
    const applied = await run("apply", "-f", spec);
    assert.match(applied.out, /applied 2 change/);
    assert.match((await run("card", "get", "router", "0.1.0")).out, /A router\./);
    assert.match((await run("apply", "-f", spec)).out, /no changes/);
  });

  test("the shipped example spec applies, with a complete card", async () => {
    const example = new URL("../../examples/modelgov.yaml", import.meta.url).pathname;
    const r = await run("apply", "-f", example);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /register_version\s+ticket-router@1\.0\.0/);
    assert.equal((await run("card", "validate", "ticket-router", "1.0.0")).code, 0);
    assert.match(r.out, /update_approval_policy/);
    // Routers are versions too: registered from the same file, their cards complete.
    assert.match(r.out, /register_version\s+support-answers@1\.0\.0/);
    assert.match(r.out, /register_version\s+support-answers@1\.1\.0/);
    assert.equal((await run("card", "validate", "support-answers", "1.1.0")).code, 0);
    const router = JSON.parse((await run("--json", "versions", "get", "support-answers", "1.1.0")).out);
    assert.equal(router.provider, "router");
    assert.equal(router.parameters.strategy, "cascade");
    assert.match((await run("apply", "-f", example)).out, /no changes/);
  });

  test("the approval flow: inbox, approve, promote, and as-of", async () => {
    const rita = await h.tokenFor("rita", ["engineering"]);
    const inbox = await runAs(rita, "--json", "approvals", "inbox");
    assert.equal(inbox.code, 0, inbox.err);
    const pending = JSON.parse(inbox.out);
    assert.equal(pending.length, 1);
    assert.equal(`${pending[0].model}@${pending[0].version}`, "support-assistant@1.2.0");
    assert.deepEqual(pending[0].canSignAs, ["engineering"]);
    const wrongRole = await runAs(rita, "approvals", "approve", pending[0].id, "--as", "compliance");
    assert.equal(wrongRole.code, 1);
    assert.match(wrongRole.err, /needs sign-off from: engineering/);
    const ok = await runAs(
      rita,
      "approvals",
      "approve",
      pending[0].id,
      "--as",
      "engineering",
      "-m",
      "benchmarks look right",
    );
    assert.equal(ok.code, 0, ok.err);
    // The request was opened before the customer-support release gate was adopted; the gate
    // binds it all the same: signing is not enough, an evaluation that passes the gate is.
    assert.match(ok.out, /PENDING/);
    assert.match(ok.out, /✔ rita as engineering/);
    assert.match(
      ok.out,
      /✗ evidence:benchmark-passed: no evaluation run judged by the release gates \(customer-support-release\)/,
    );
    const refused = await run(
      "alias",
      "set",
      "support-assistant",
      "production",
      "1.2.0",
      "--reason",
      "approved canary",
    );
    assert.equal(refused.code, 1);
    assert.match(refused.err, /benchmark-passed/);
    const listed = await run(
      "--json",
      "approvals",
      "list",
      "--model",
      "support-assistant",
      "--status",
      "approved",
    );
    assert.equal(JSON.parse(listed.out).length, 2);
    // One version's requests: model@version (a --version option would be taken by the program's own flag).
    const one = await run("--json", "approvals", "list", "support-assistant@1.2.0");
    assert.equal(one.code, 0, one.err);
    assert.deepEqual(
      JSON.parse(one.out).map((r: { version: string }) => r.version),
      ["1.2.0"],
    );
    const evidence = path.join(dir, "bench.json");
    writeFileSync(evidence, JSON.stringify({ accuracy: 0.9 }));
    const att = await run(
      "--json",
      "evidence",
      "attach",
      "support-assistant",
      "1.2.0",
      "--kind",
      "benchmark",
      "--file",
      evidence,
      "--passed",
    );
    assert.equal(att.code, 0, att.err);
    assert.match(JSON.parse(att.out).contentHash, /^sha256:[a-f0-9]{64}$/);
    assert.equal(
      (
        await run(
          "evidence",
          "attach",
          "support-assistant",
          "1.2.0",
          "--kind",
          "benchmark",
          "--file",
          evidence,
        )
      ).code,
      2,
    );
  });

  test("an unreachable server is a clear error, exit 1", async () => {
    const code = await runCli(["models", "list"], {
      io: { out: () => {}, err: (s) => assert.match(s, /cannot reach the modelgov server/) },
      env: { MODELGOV_URL: "http://127.0.0.1:9" },
    });
    assert.equal(code, 1);
  });
});
