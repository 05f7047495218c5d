import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { runCliAs } from "../../test-support/cli.ts";
import { seedModel, sendTraffic } from "../../test-support/rollouts.ts";
import { type Harness, openHarness, storeTargets } from "../../test-support/stores.ts";
import { parseArm, parseGuardrail } from "./experiments.ts";

describe("experiment CLI against the API, in-process", () => {
  let h: Harness;
  let ids: Record<string, string>;
  const cli = (...argv: string[]) => runCliAs(h.fetch, h.adminToken, argv);
  before(async () => {
    h = await openHarness(storeTargets()[0]!);
    ids = await seedModel(h, "cli-ab");
  });
  after(() => h.cleanup());

  test("arms and guardrails on the command line", () => {
    assert.deepEqual(parseArm("control=1.0.0:50"), { name: "control", version: "1.0.0", weight: 50 });
    assert.deepEqual(parseGuardrail("error_rate<=0.02"), { metric: "error_rate", max: 0.02 });
    assert.deepEqual(parseGuardrail("error_rate<=2%"), { metric: "error_rate", max: 0.02 });
    assert.deepEqual(parseGuardrail("latency_p95_ms<=+20%"), {
      metric: "latency_p95_ms",
      maxRelativeIncrease: 0.2,
    });
    assert.deepEqual(parseGuardrail("cost_per_request_usd<=0.01"), {
      metric: "cost_per_request_usd",
      max: 0.01,
    });
    assert.throws(() => parseGuardrail("error_rate>0.02"), /expected error_rate<=0.02/);
    assert.throws(() => parseArm("control=1.0.0"), /<name>=<version>:<weight>/);
  });

  test("create, results as a table with the recommendation, stop; usage errors exit 2, API errors 1", async () => {
    const arms = ["--arm", "control=1.0.0:50", "--arm", "b=1.1.0:50"];
    for (const bad of [
      ["experiment", "create", "cli-ab", "--name", "x", "--arm", "control=1.0.0"],
      ["experiment", "create", "cli-ab", "--name", "x", "--arm", "control=1.0.0:100"],
      ["experiment", "create", "cli-ab", ...arms],
      ["experiment", "create", "cli-ab", "--name", "x", ...arms, "--guardrail", "errors<5"],
      ["experiment", "create", "cli-ab", "--name", "x", ...arms, "--min-sample", "many"],
    ])
      assert.equal((await cli(...bad)).code, 2, bad.join(" "));
    const oneArm = await cli("experiment", "create", "cli-ab", "--name", "x", "--arm", "control=1.0.0:100");
    assert.match(oneArm.err, /give at least two --arm/);
    const badGuard = await cli(
      "experiment",
      "create",
      "cli-ab",
      "--name",
      "x",
      ...arms,
      "--guardrail",
      "errors<5",
    );
    assert.match(
      badGuard.err,
      /--guardrail <limit>' argument 'errors<5' is invalid\. expected error_rate<=0\.02/,
    );
    const unknown = await cli(
      "experiment",
      "create",
      "cli-ab",
      "--name",
      "x",
      "--arm",
      "control=1.0.0:50",
      "--arm",
      "b=9.9.9:50",
    );
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /body\.arms\.1\.version: version 9\.9\.9 of 'cli-ab' is not registered/);

    const created = await cli(
      "experiment",
      "create",
      "cli-ab",
      "--name",
      "longer-answers",
      ...arms,
      "--secondary",
      "error_rate",
      "--guardrail",
      "error_rate<=5%",
      "--min-sample",
      "100",
      "--planned-sample",
      "500",
    );
    assert.equal(created.code, 0, created.err);
    assert.match(
      created.out,
      /cli-ab: experiment 'longer-answers' running: control 1\.0\.0 50%, b 1\.1\.0 50%/,
    );
    assert.match(
      created.out,
      /primary success_rate, secondary error_rate; minimum 100 per arm, planned 500 per arm/,
    );

    h.clock.advance(30_000);
    // Before the planned 500 per arm: the fixed-horizon p is withheld and the CI is the always-valid one.
    await sendTraffic(h, ids, "cli-ab", "1.0.0", 200, { successRate: 0.7 });
    await sendTraffic(h, ids, "cli-ab", "1.1.0", 200, { successRate: 0.85 });
    const early = await cli("experiment", "results", "cli-ab");
    assert.equal(early.code, 0, early.err);
    assert.match(
      early.out,
      /│ arm +│ version │ requests │ success │ errors │ lift \(always-valid CI\) +│ p always-valid │ p fixed-horizon │/,
    );
    assert.match(early.out, /│ b +│ 1\.1\.0 +│ 200 .*│ at horizon +│/);
    assert.match(
      early.out,
      /reading now: always-valid p-values and intervals are safe to read at every look; fixed-horizon p-values are shown from the planned 500 per arm on \(200 now\)/,
    );
    h.clock.advance(60_000);
    await sendTraffic(h, ids, "cli-ab", "1.0.0", 400, { successRate: 0.7 });
    await sendTraffic(h, ids, "cli-ab", "1.1.0", 400, { successRate: 0.85 });
    const results = await cli("experiment", "results", "cli-ab");
    assert.equal(results.code, 0, results.err);
    const lines = results.out.split("\n");
    assert.match(
      lines.find((l) => l.includes(" arm "))!,
      /│ arm +│ version │ requests │ success │ errors │ lift \((always-valid )?CI\) +│ p always-valid │ p fixed-horizon │ beats ctrl │ \$\/success │/,
    );
    assert.match(
      results.out,
      /^cli-ab: experiment 'longer-answers' running, 1 min of data \(looked at 2026-03-01T09:01:30\.000Z\)/,
    );
    assert.match(
      lines.find((l) => l.includes(" control "))!,
      /│ control +│ 1\.0\.0 +│ 600 +│ 69\.7% +│ 0\.0% +│ control +│ - +│ - +│ - +│ \$0\.001435 │/,
    );
    assert.match(
      lines.find((l) => l.includes(" b "))!,
      /│ b +│ 1\.1\.0 +│ 600 +│ 84\.7% +│ 0\.0% +│ \+21\.5% \(\+13\.9% to \+29\.2%\) │ 3\.6e-8 +│ 6\.0e-10 +│ 100\.0% +│ \$0\.001181 │/,
    );
    assert.match(
      results.out,
      /reading now: the planned 500 per arm is reached: fixed-horizon p-values and intervals are shown beside the always-valid ones\nsecondary metrics \(always-valid p, corrected across them\):\n {2}b error_rate: 0\.0% vs 0\.0%, always-valid p = 1\.000/,
    );
    assert.match(results.out, /SRM: ok, p = 1\.000 \(units 600 \/ 600; expected 600 \/ 600\)/);
    assert.match(
      results.out,
      /guardrails:\n {2}ok +b: error rate 0\.00% \(0 of 600\) vs 0\.00% baseline: within the 5\.00% guard/,
    );
    assert.match(
      results.out,
      /recommendation: ship \(b\)\n {2}b beats control on success rate: \+21\.5% relative \(95% CI \+13\.9% to \+29\.2%\), always-valid p = 3\.6e-8/,
    );

    const json = JSON.parse((await cli("--json", "experiment", "results", "cli-ab")).out);
    assert.equal(json.results.recommendation.decision, "ship");
    assert.equal(json.results.arms[1].requests, 600);

    const stopped = await cli("experiment", "stop", "cli-ab", "--reason", "shipping b");
    assert.equal(stopped.code, 0, stopped.err);
    assert.match(stopped.out, /experiment 'longer-answers' completed \(shipping b\)/);
    assert.match(stopped.out, /recommendation: ship \(b\)/);
    const again = await cli("experiment", "stop", "cli-ab");
    assert.equal(again.code, 1);
    assert.match(again.err, /running experiment of 'cli-ab' not found \(HTTP 404\)/);
    assert.equal((await cli("experiment", "results", "no-such-model")).code, 1);
  });
});
