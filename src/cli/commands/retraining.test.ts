import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { Command } from "commander";
import { runCliAs } from "../../test-support/cli.ts";
import { seedModel } from "../../test-support/rollouts.ts";
import { type Harness, openHarness, storeTargets } from "../../test-support/stores.ts";
import { buildProgram } from "../main.ts";
import { describeTask } from "./retraining.ts";

const JUSTIFICATION = "the drop is a known holiday effect on a small slice";

describe("retraining CLI against the API, in-process", () => {
  let h: Harness;
  let ids: Record<string, string>;
  const dir = mkdtempSync(path.join(tmpdir(), "modelgov-retraining-cli-"));
  const tokens: Record<string, string> = {};
  const cli = (...argv: string[]) => runCliAs(h.fetch, h.adminToken, argv);
  const as = (role: string, ...argv: string[]) => runCliAs(h.fetch, tokens[role]!, argv);
  let task = "";

  before(async () => {
    h = await openHarness(storeTargets()[0]!);
    ids = await seedModel(h, "cli-rt");
    for (const role of ["engineering", "compliance"]) tokens[role] = await h.tokenFor(`${role}-user`, [role]);
    const versionId = ids["cli-rt@1.0.0"]!;
    h.services.requestLog.record({
      id: "req_cli_1",
      at: h.clock.now(),
      tokenId: "tok_a",
      client: "bot",
      model: "cli-rt",
      versionId,
      version: "1.0.0",
      routeReason: "alias:production",
      endpoint: "chat.completions",
      stream: false,
      status: 200,
      errorClass: null,
      totalMs: 100,
      upstreamMs: 90,
      tokensIn: 10,
      tokensOut: 10,
      costUsd: 0.001,
      fallbackPath: [
        { versionId, version: "1.0.0", outcome: "served", attempts: 1, durationMs: 90 },
      ] as never,
      sampledBody: {
        request: { model: "cli-rt", messages: [{ role: "user", content: "Where is my invoice?" }] },
      },
    });
    h.services.feedbackLog.record({
      id: "fbk_cli_1",
      requestId: "req_cli_1",
      at: h.clock.now(),
      success: false,
      score: null,
      labels: [],
      groups: {},
      comment: "",
      correction: "billing",
      tokenId: "tok_a",
      client: "bot",
    });
    await h.services.requestLog.flush();
    await h.services.feedbackLog.flush();
    writeFileSync(
      path.join(dir, "evidence.json"),
      JSON.stringify({
        metric: "success_rate",
        summary: "success 71% vs 90% baseline for 5 days",
        windows: [
          {
            from: "2026-03-01T09:00:00Z",
            to: "2026-03-01T10:00:00Z",
            value: 0.71,
            baseline: 0.9,
            n: 400,
            p: 0.001,
            breached: true,
          },
        ],
      }),
    );
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await h.cleanup();
  });

  test("every retraining subcommand has its help text", () => {
    const program = buildProgram({ io: { out() {}, err() {} }, env: {} }, () => {});
    const retraining = program.commands.find((c) => c.name() === "retraining")!;
    assert.ok(retraining.description().length > 20);
    const names = retraining.commands.map((c: Command) => c.name());
    assert.deepEqual(names, [
      "list",
      "show",
      "open",
      "start-training",
      "evaluate",
      "mark-approved",
      "mark-rolled-out",
      "close",
      "dismiss",
      "dataset",
    ]);
    for (const c of retraining.commands)
      assert.ok(c.description().length > 10, `${c.name()} has no description`);
  });

  test("open, list, show, start-training; out-of-order moves exit 1 with the problem", async () => {
    const help = await cli("retraining", "dismiss", "--help");
    assert.equal(help.code, 0);
    assert.match(
      help.out,
      /--justification <text> +why the breach needs no retraining \(at least 20\s+characters\)/,
    );

    const opened = await cli(
      "retraining",
      "open",
      "cli-rt",
      "1.0.0",
      "--rule",
      "success-drop",
      "-f",
      path.join(dir, "evidence.json"),
    );
    assert.equal(opened.code, 0, opened.err);
    assert.match(
      opened.out,
      /^opened a new task\nrtk_[a-z0-9]+: cli-rt@1\.0\.0 open \(rule success-drop, metric success_rate\)/,
    );
    task = /(rtk_[a-z0-9]+)/.exec(opened.out)![1]!;
    const again = await cli(
      "--json",
      "retraining",
      "open",
      "cli-rt",
      "1.0.0",
      "--rule",
      "success-drop",
      "-f",
      path.join(dir, "evidence.json"),
    );
    assert.equal(JSON.parse(again.out).opened, false);
    assert.equal(JSON.parse(again.out).task.evidenceCount, 2);

    const list = await cli("retraining", "list", "--model", "cli-rt", "--state", "active");
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, new RegExp(`│ ${task} │ cli-rt +│ 1\\.0\\.0 +│ open +│ success_rate │ - +│ 2 +│`));
    assert.equal(JSON.parse((await cli("--json", "retraining", "list")).out).items[0].id, task);
    assert.equal((await cli("retraining", "list", "--state", "halfway")).code, 2);

    const shown = await cli("retraining", "show", task);
    assert.equal(shown.code, 0, shown.err);
    assert.match(shown.out, /next: training, dismissed/);
    assert.match(
      shown.out,
      /success-drop on 1\.0\.0 \[2026-03-01T09:00:00\.000Z → 2026-03-01T10:00:00\.000Z\] success 71% vs 90% baseline/,
    );
    assert.match(shown.out, /history:\n {2}2026-03-01T09:00:00\.000Z - → open by admin/);

    const early = await cli("retraining", "mark-approved", task);
    assert.equal(early.code, 1);
    assert.match(early.err, /is open: it cannot move to approved; next: training, dismissed \(HTTP 409\)/);
    const training = await as(
      "engineering",
      "retraining",
      "start-training",
      task,
      "--note",
      "fine-tune on March",
    );
    assert.equal(training.code, 0, training.err);
    assert.match(training.out, / training \(rule success-drop/);
    const runs = await cli(
      "retraining",
      "evaluate",
      task,
      "--candidate-run",
      "evr_a",
      "--production-run",
      "evr_b",
    );
    assert.equal(runs.code, 1);
    assert.match(runs.err, /is training: it cannot move to evaluated/);
    assert.equal((await cli("retraining", "evaluate", task, "--candidate-run", "evr_a")).code, 2);
    assert.equal(
      (
        await cli(
          "retraining",
          "evaluate",
          task,
          "--candidate-run",
          "evr_a",
          "--production-run",
          "evr_b",
          "--alpha",
          "2",
        )
      ).code,
      2,
    );
  });

  test("dataset: to standard output or a file, with the counts; a bad format is a usage error", async () => {
    const out = await as("engineering", "retraining", "dataset", task, "--format", "openai-jsonl");
    assert.equal(out.code, 0, out.err);
    assert.deepEqual(JSON.parse(out.out), {
      messages: [
        { role: "user", content: "Where is my invoice?" },
        { role: "assistant", content: "billing" },
      ],
    });
    assert.match(
      out.err,
      /1 failing requests in the evidence windows: 1 exportable, 0 without a kept body \(not exported\), 1 with a correction/,
    );
    const file = path.join(dir, "slice.suite.json");
    const suite = await cli("retraining", "dataset", task, "--format", "suite", "-o", file);
    assert.equal(suite.code, 0, suite.err);
    assert.match(suite.out, /^wrote .*slice\.suite\.json: 1 failing requests/);
    const doc = JSON.parse(readFileSync(file, "utf8"));
    assert.deepEqual(doc.cases[0].expect, { equals: "billing" });
    assert.equal((await cli("retraining", "dataset", task, "--format", "csv")).code, 2);
    assert.equal((await cli("retraining", "dataset", task)).code, 2);
  });

  test("dismiss: a justification and the permission are required; a stakeholder may", async () => {
    assert.equal((await cli("retraining", "dismiss", task)).code, 2);
    const short = await as("compliance", "retraining", "dismiss", task, "--justification", "no");
    assert.equal(short.code, 1);
    assert.match(short.err, /body\.justification: write at least 20 characters/);
    const engineer = await as("engineering", "retraining", "dismiss", task, "--justification", JUSTIFICATION);
    assert.equal(engineer.code, 1);
    assert.match(engineer.err, /needs the 'retraining:dismiss' permission.*\(HTTP 403\)/);
    const ok = await as(
      "compliance",
      "--json",
      "retraining",
      "dismiss",
      task,
      "--justification",
      JUSTIFICATION,
    );
    assert.equal(ok.code, 0, ok.err);
    assert.equal(JSON.parse(ok.out).state, "dismissed");
    const text = await cli("retraining", "show", task);
    assert.match(text.out, new RegExp(`justification: ${JUSTIFICATION}`));
    assert.match(text.out, /next: none \(final\)/);
  });

  test("a verdict in words", () => {
    const lines = describeTask({
      id: "rtk_x",
      model: "m",
      version: "1.0.0",
      state: "candidate_registered",
      next: ["candidate_registered", "evaluated", "dismissed"],
      rule: "r",
      metric: "success_rate",
      suiteHash: "sha256:ab",
      candidate: { id: "ver_c", version: "1.1.0" },
      evaluation: {
        passed: false,
        metric: "success_rate",
        basis: "pass_rate",
        test: "mcnemar_exact",
        direction: "higher_is_better",
        alpha: 0.05,
        pairs: 100,
        unpaired: 0,
        candidate: { run: "evr_c", version: "1.1.0", value: 0.71 },
        production: { run: "evr_p", version: "1.0.0", value: 0.7 },
        difference: 0.01,
        p: 0.8,
        details: {},
        suite: { name: "slice", hash: "sha256:ab" },
        reasons: ["the difference is not significant"],
        at: "2026-03-01T09:00:00.000Z",
      },
      resolution: null,
      evidenceCount: 1,
      summary: "success_rate 70.0% vs 80.0% baseline over 1 h (p = 0.001)",
      openedBy: "monitoring",
      openedAt: "2026-03-01T09:00:00.000Z",
      updatedAt: "2026-03-01T09:00:00.000Z",
      endedAt: null,
    });
    assert.deepEqual(lines.slice(2), [
      "candidate: m@1.1.0",
      "suite: sha256:ab",
      "evaluation: not passed (success_rate as pass rate, exact McNemar, p 0.800, alpha 0.05; runs evr_c vs evr_p on slice)",
      "  the difference is not significant",
    ]);
  });
});
