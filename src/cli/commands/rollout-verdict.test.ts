import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { runCliAs } from "../../test-support/cli.ts";
import { seedModel, sendTraffic } from "../../test-support/rollouts.ts";
import { ctx, type Harness, openHarness, storeTargets } from "../../test-support/stores.ts";

describe("modelgov rollout verdict, against the API in-process", () => {
  let h: Harness;
  let ids: Record<string, string>;
  const cli = (...argv: string[]) => runCliAs(h.fetch, h.adminToken, argv);
  before(async () => {
    h = await openHarness(storeTargets()[0]!);
    ids = await seedModel(h, "argo-canary");
  });
  after(() => h.cleanup());

  test("hold, then promote with the judged window; a version's own rollout with model@version; --json", async () => {
    await h.services.rollouts.start(ctx(), "argo-canary", "1.1.0", { plan: "demo" });
    const held = await cli("rollout", "verdict", "argo-canary");
    assert.equal(held.code, 0, held.err);
    assert.match(
      held.out,
      /^hold: argo-canary@1\.1\.0 against 1\.0\.0 \(rollout rol_\w+, running, step 1\/4, candidate \[/,
    );
    assert.match(
      held.out,
      /verdict insufficient_data, 0 baseline and 0 candidate requests; the controller would hold/,
    );

    await sendTraffic(h, ids, "argo-canary", "1.0.0", 400, { successRate: 0.9 });
    await sendTraffic(h, ids, "argo-canary", "1.1.0", 300, { successRate: 0.92 });
    const passed = await cli("rollout", "verdict", "argo-canary@1.1.0");
    assert.equal(passed.code, 0, passed.err);
    assert.match(passed.out, /^promote: argo-canary@1\.1\.0/);
    assert.match(passed.out, /passes every metric against the baseline/);

    const json = await cli("--json", "rollout", "verdict", "argo-canary@1.1.0");
    assert.equal(JSON.parse(json.out).verdict, "promote");
  });

  test("no rollout of that version is 404 (exit 1); a bad version is refused naming the field", async () => {
    const none = await cli("rollout", "verdict", "argo-canary@1.2.0");
    assert.equal(none.code, 1);
    assert.match(none.err, /a rollout of argo-canary@1\.2\.0 not found/);
    const bad = await cli("rollout", "verdict", "argo-canary@latest");
    assert.equal(bad.code, 1);
    assert.match(bad.err, /candidate/);
  });
});
