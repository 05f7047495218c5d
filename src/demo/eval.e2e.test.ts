import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { runCli } from "../cli/main.ts";
import { createClient } from "../client/index.ts";
import { startDemoServer } from "../test-support/demo-server.ts";

describe("modelgov demo eval, end to end (real server, evaluation worker, simulator)", () => {
  let demo: Awaited<ReturnType<typeof startDemoServer>>;
  before(async () => {
    demo = await startDemoServer("demo-eval");
  });
  after(() => demo?.close());

  test("the evaluation finds the disparity planted in 2.0.0, and the release gate blocks its approval", async () => {
    const out: string[] = [];
    const code = await runCli(["demo", "eval"], {
      io: { out: (s) => out.push(s), err: (s) => out.push(s) },
      env: { MODELGOV_URL: demo.url, MODELGOV_TOKEN: demo.admin },
    });
    const text = out.join("\n");
    assert.equal(code, 0, text);
    assert.match(
      text,
      /support-assistant@2\.0\.0 on suite support-triage-demo: completed \(960\/960 cases\)/,
    );
    assert.match(
      text,
      /✗ customer-support-release: age_band: success rate: gap [\d.]+ points exceeds the maximum 10/,
    );
    assert.match(text, /approval request for 2\.0\.0: refused \(HTTP 412\)\n {2}evidence\.fairness-passed: /);
    assert.match(text, /flips: \d+ pass→fail, \d+ fail→pass; McNemar exact p = /);

    const admin = createClient({ baseUrl: demo.url, token: demo.admin });
    const { runs } = await admin.evals.list({ model: "support-assistant", status: "completed" });
    const byVersion = Object.fromEntries(runs.map((r) => [r.version, r]));
    assert.equal(byVersion["1.1.0"]?.report?.gates.fairness?.passed, true);
    assert.equal(byVersion["2.0.0"]?.needsReview, true);
    const gap = byVersion["2.0.0"]!.report!.groups.age_band!.maxGapPoints!;
    assert.ok(gap > 20, `gap ${gap}`);
    // The candidate's card now carries the numbers; 1.1.0 (in production) keeps its signed card.
    const card = await admin.cards.get("support-assistant", "2.0.0");
    assert.match(JSON.stringify(card.content.sections.quantitative_analyses), /Success by age_band/);
    const audit = await admin.audit.events({ action: "eval.review_needed", limit: 10 });
    assert.equal(audit.items.length, 1);
  });
});
