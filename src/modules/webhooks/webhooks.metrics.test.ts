import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../lib/logger.ts";
import { ctx, type Harness, openHarness, storeTargets } from "../../test-support/stores.ts";
import { createWebhookDispatcher } from "./index.ts";

/** The value of one sample line, e.g. `name{a="b"}`. */
const sample = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe("webhook metrics", () => {
  let h: Harness;
  before(async () => {
    h = await openHarness(storeTargets()[0]!);
  });
  after(() => h.cleanup());
  const scrape = async () => (await h.services.metrics.render()).body;

  test("the queue is read at scrape time; attempts are counted by outcome", async () => {
    // A receiver that fails, then answers: answers are fakes, no socket is opened.
    const answers = [500, 500, 204];
    let calls = 0;
    const dispatcher = (maxAttempts: number) =>
      createWebhookDispatcher({
        db: h.db,
        clock: h.clock,
        logger: createLogger("silent"),
        random: () => 0.5,
        maxAttempts,
        fetch: async () => new Response(null, { status: answers[calls++] ?? 204 }),
        onPass: h.services.countWebhookPass,
      });
    await h.services.webhooks.create(ctx(), {
      url: "https://receiver.example/hooks",
      eventTypes: ["model.created"],
    });
    let body = await scrape();
    const outboxBefore = sample(body, "modelgov_webhook_outbox_pending")!;
    assert.equal(sample(body, "modelgov_webhook_deliveries_pending"), 0);

    const model = (name: string) =>
      h.services.registry.createModel(ctx(), {
        name,
        owner: "team",
        description: "",
        useCases: [],
        riskTier: "low",
        tags: [],
      });
    await model("hooked-1");
    body = await scrape();
    assert.equal(sample(body, "modelgov_webhook_outbox_pending"), outboxBefore + 1);

    await dispatcher(3).runOnce();
    body = await scrape();
    assert.equal(sample(body, "modelgov_webhook_outbox_pending"), 0);
    assert.equal(sample(body, "modelgov_webhook_deliveries_pending"), 1, "failed once, waiting to retry");
    assert.equal(sample(body, 'modelgov_webhook_attempts_total{outcome="retrying"}'), 1);
    assert.equal(sample(body, 'modelgov_webhook_attempts_total{outcome="delivered"}'), 0);
    assert.ok(sample(body, "modelgov_webhook_events_dispatched_total")! >= 1);

    h.clock.advance(60_000);
    await dispatcher(2).runOnce();
    body = await scrape();
    assert.equal(sample(body, "modelgov_webhook_deliveries_pending"), 0, "its last attempt failed");
    assert.equal(sample(body, 'modelgov_webhook_attempts_total{outcome="failed"}'), 1);

    await model("hooked-2");
    await dispatcher(3).runOnce();
    body = await scrape();
    assert.equal(sample(body, 'modelgov_webhook_attempts_total{outcome="delivered"}'), 1);
    assert.equal(sample(body, 'modelgov_webhook_attempts_total{outcome="retrying"}'), 1);
    assert.equal(sample(body, "modelgov_webhook_deliveries_pending"), 0);
  });
});
