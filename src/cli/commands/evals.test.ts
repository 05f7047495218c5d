import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../lib/logger.ts";
import { createEvalInvoker, createEvalWorker, type EvalWorker } from "../../modules/evals/index.ts";
import { VersionCreateSchema } from "../../modules/registry/registry.schemas.ts";
import { createAdapters } from "../../providers/index.ts";
import { runCliAs } from "../../test-support/cli.ts";
import { ctx, type Harness, openHarness, storeTargets } from "../../test-support/stores.ts";
import { parseRef, progressLine } from "./evals.ts";

const LABELS = ["billing", "technical", "account", "shipping"];

describe("eval CLI against the API, in-process", () => {
  let h: Harness;
  let worker: EvalWorker;
  let dir: string;
  let suite: string;
  const cli = (...argv: string[]) => runCliAs(h.fetch, h.adminToken, argv);

  before(async () => {
    h = await openHarness(storeTargets()[0]!);
    dir = mkdtempSync(path.join(os.tmpdir(), "modelgov-eval-cli-"));
    suite = path.join(dir, "suite.yaml");
    writeFileSync(
      suite,
      [
        "name: cli-suite",
        "template: 'Classify: {{ticket}}'",
        "scorers:",
        "  - kind: label",
        `    labels: [${LABELS.join(", ")}]`,
        "casesFile: cases.jsonl",
      ].join("\n"),
    );
    const lines = Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({
        id: `c${i}`,
        input: { fields: { ticket: `t${i}` } },
        expect: { label: LABELS[i % 4] },
        attributes: { age_band: i % 2 ? "65+" : "18-29" },
      }),
    );
    writeFileSync(path.join(dir, "cases.jsonl"), `${lines.join("\n")}\n`);
    await h.services.registry.createModel(ctx(), {
      name: "cli-eval",
      owner: "team",
      description: "",
      useCases: [],
      riskTier: "low",
      tags: [],
    });
    for (const [version, quality] of [
      ["1.0.0", { success: 0.95 }],
      ["2.0.0", { success: 0.95, byGroup: { "age_band:65+": 0.2 } }],
    ] as const)
      await h.services.registry.registerVersion(
        ctx(),
        "cli-eval",
        VersionCreateSchema.parse({
          version,
          provider: "simulator",
          providerModelId: "sim",
          parameters: { latencyMs: { p50: 0, p95: 0 }, quality, seed: 5 },
        }),
      );
    worker = createEvalWorker({
      db: h.db,
      clock: h.clock,
      evals: h.services.evals,
      invoker: createEvalInvoker({ db: h.db, adapters: createAdapters(), apiKeyFor: () => undefined }),
      logger: createLogger("silent"),
      intervalMs: 50,
    });
    worker.start();
  });
  after(async () => {
    await worker.stop();
    await h.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test("references and the progress line", () => {
    assert.deepEqual(parseRef("m@1.0.0"), { model: "m", version: "1.0.0" });
    assert.throws(() => parseRef("m"), /<model>@<version>/);
    assert.equal(progressLine(0, 10, 0, 1000), "[------------------------] 0/10 cases 0%");
    assert.match(progressLine(5, 10, 0, 5000), /^\[#{12}-{12}\] 5\/10 cases 50% ETA 5s$/);
  });

  test("eval run uploads the suite (JSONL inlined), shows progress, and prints the report by group", async () => {
    const r = await cli("eval", "run", "cli-eval@1.0.0", "--suite", suite, "--interval", "0.05");
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /started evr_\w+: 40 cases of suite cli-suite/);
    assert.match(r.err, /\] 40\/40 cases 100%|\] \d+\/40 cases/);
    assert.match(r.out, /cli-eval@1\.0\.0 on suite cli-suite: completed \(40\/40 cases\)/);
    assert.match(r.out, /success by age_band/);
    assert.match(r.out, /release gates: none apply/);
  });

  test("eval compare reuses the completed run, runs the other, and reports the flips", async () => {
    const r = await cli(
      "eval",
      "compare",
      "cli-eval@1.0.0",
      "cli-eval@2.0.0",
      "--suite",
      suite,
      "--interval",
      "0.05",
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /reusing evr_\w+ \(cli-eval@1\.0\.0/);
    assert.match(r.err, /started evr_\w+: 40 cases of suite cli-suite on cli-eval@2\.0\.0/);
    const m = /flips: (\d+) pass→fail, (\d+) fail→pass; McNemar exact p = /.exec(r.out);
    assert.ok(m, r.out);
    assert.ok(Number(m[1]) > Number(m[2]), r.out);
    assert.match(r.out, /c\d+: pass → fail/);
    const json = JSON.parse((await cli("--json", "eval", "list", "cli-eval")).out);
    assert.equal(json.length, 2);
  });

  test("usage errors exit 2; a bad suite file names the line", async () => {
    assert.equal((await cli("eval", "run", "cli-eval", "--suite", suite)).code, 2);
    const bad = path.join(dir, "bad.yaml");
    writeFileSync(bad, "name: Bad Name\nscorers: [label]\ncases: []\n");
    const r = await cli("eval", "run", "cli-eval@1.0.0", "--suite", bad);
    assert.equal(r.code, 1);
    assert.match(r.err, /name: a suite name is lowercase/);
  });
});
