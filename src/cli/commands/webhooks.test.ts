import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../lib/logger.ts";
import { createWebhookDispatcher } from "../../modules/webhooks/index.ts";
// Set before the CLI module loads (a static import would run first and autorun the CLI).
import { runCliAs } from "../../test-support/cli.ts";
import { ctx, type Harness, openHarness, storeTargets } from "../../test-support/stores.ts";
import { type Receiver, startReceiver } from "../../test-support/webhook-receiver.ts";

describe("webhooks CLI against the API, in-process", () => {
  let h: Harness;
  let r: Receiver;
  let fails = 1;
  before(async () => {
    h = await openHarness(storeTargets()[0]!);
    r = await startReceiver(() => (fails-- > 0 ? { status: 500, body: "boom" } : { status: 200 }));
  });
  after(async () => {
    await r.close();
    await h.cleanup();
  });
  const run = (...argv: string[]) => runCliAs(h.fetch, h.adminToken, argv);

  test("create prints the secret once; list shows the subscription without it", async () => {
    const c = await run("webhooks", "create", r.url, "--event", "model.*", "--event", "version.registered");
    assert.equal(c.code, 0, c.err);
    const secret = /secret: (whsec_\S+)/.exec(c.out)?.[1];
    assert.ok(secret, c.out);
    assert.match(c.out, /not shown again/);
    const list = await run("webhooks", "list");
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /model\.\*, version\.registered/);
    assert.ok(!list.out.includes(secret));
    const j = await run("--json", "webhooks", "list");
    assert.equal(JSON.parse(j.out)[0].url, r.url);
    assert.equal(JSON.parse(j.out)[0].legacySignature, false);
    assert.doesNotMatch(list.err, /legacy/);
    // A subscription from before Standard Webhooks (as the upgrade marks it): the operator is told.
    await h.db.query("UPDATE webhook_subscriptions SET legacy_signature = true");
    const legacy = await run("webhooks", "list");
    assert.match(legacy.err, /1 subscription\(s\) created before Standard Webhooks .*docs\/webhooks\.md/);
    await h.db.query("UPDATE webhook_subscriptions SET legacy_signature = false");
  });

  test("deliveries shows the attempts and last error; disable stops the subscription", async () => {
    const [w] = JSON.parse((await run("--json", "webhooks", "list")).out);
    await h.services.registry.createModel(ctx(), {
      name: "cli-hooked",
      owner: "o",
      description: "",
      useCases: [],
      riskTier: "low",
      tags: [],
    });
    const d = createWebhookDispatcher({ db: h.db, clock: h.clock, logger: createLogger("silent") });
    await d.runOnce();
    const pending = await run("webhooks", "deliveries", w.id);
    assert.equal(pending.code, 0, pending.err);
    assert.match(pending.out, /model\.created/);
    assert.match(pending.out, /HTTP 500: boom/);
    h.clock.advance(60_000);
    await d.runOnce();
    const delivered = JSON.parse(
      (await run("--json", "webhooks", "deliveries", w.id, "--status", "delivered")).out,
    );
    assert.equal(delivered.length, 1);
    assert.equal(delivered[0].attempts, 2);

    assert.equal((await run("webhooks", "deliveries", w.id, "--status", "lost")).code, 2);
    const retry = await run("webhooks", "retry", w.id, delivered[0].id);
    assert.equal(retry.code, 1);
    assert.match(retry.err, /only a failed delivery is retried/);
    const off = await run("webhooks", "disable", w.id);
    assert.equal(off.code, 0, off.err);
    assert.match(off.out, /disabled webhook/);
  });

  test("usage errors exit 2; a bad URL exits 1 naming the field", async () => {
    assert.equal((await run("webhooks", "create", "--event", "*")).code, 2);
    assert.equal((await run("webhooks", "create", "https://x.example/y")).code, 2);
    const bad = await run("webhooks", "create", "ftp://x.example/y", "--event", "*");
    assert.equal(bad.code, 1);
    assert.match(bad.err, /body\.url: must be an http or https URL/);
  });
});
