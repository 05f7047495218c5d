import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { runCliAs } from "../../test-support/cli.ts";
import { seedModel, sendTraffic } from "../../test-support/rollouts.ts";
import { type Harness, openHarness, storeTargets } from "../../test-support/stores.ts";
import { bar } from "./rollouts.ts";

describe("rollout CLI against the API, in-process", () => {
  let h: Harness;
  let ids: Record<string, string>;
  const cli = (...argv: string[]) => runCliAs(h.fetch, h.adminToken, argv);
  before(async () => {
    h = await openHarness(storeTargets()[0]!);
    ids = await seedModel(h, "cli-canary");
  });
  after(() => h.cleanup());

  test("the progress bar", () => {
    assert.equal(bar(25, 8), "[██░░░░░░] 25%");
    assert.equal(bar(0, 4), "[░░░░] 0%");
    assert.equal(bar(100, 4), "[████] 100%");
  });

  test("start, status with the last analysis, pause, promote, rollback; bad input exits 2 or 1", async () => {
    const started = await cli("rollout", "start", "cli-canary@1.1.0", "--plan", "demo");
    assert.equal(started.code, 0, started.err);
    assert.match(started.out, /cli-canary: 1\.1\.0 against 1\.0\.0, plan 'demo' \(10% → 25% → 50% → 100%\)/);
    assert.match(started.out, /status running · step 1\/4 · candidate \[██░+\] 10%/);

    h.clock.advance(4000);
    await sendTraffic(h, ids, "cli-canary", "1.0.0", 100);
    await sendTraffic(h, ids, "cli-canary", "1.1.0", 60);
    const r = await h.services.rollouts.status("cli-canary");
    await h.services.rollouts.analyze(r!.id, {
      actor: "rollout-controller",
      requestId: "t",
      roles: ["admin"],
    });
    const status = await cli("rollout", "status", "cli-canary");
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, /last analysis .*: verdict pass/);
    assert.match(status.out, /pass +success_rate: /);
    assert.match(status.out, /last decision .*: advance \(10% → 25%\) by rollout-controller/);

    const json = JSON.parse((await cli("--json", "rollout", "status", "cli-canary")).out);
    assert.equal(json.weight, 25);

    assert.match(
      (await cli("rollout", "pause", "cli-canary", "--reason", "lunch")).out,
      /status paused \(lunch\)/,
    );
    assert.match((await cli("rollout", "promote", "cli-canary")).out, /step 3\/4 · candidate .* 50%/);
    const back = await cli("rollback", "cli-canary", "--reason", "on-call says no");
    assert.equal(back.code, 0, back.err);
    assert.match(back.out, /status rolled_back/);
    assert.match(back.out, /on-call says no/);

    const usage = await cli("rollout", "start", "no-version-here");
    assert.equal(usage.code, 2);
    const missing = await cli("rollout", "pause", "cli-canary");
    assert.equal(missing.code, 1);
    assert.match(missing.err, /active rollout of 'cli-canary' not found/);
  });
});
