import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../lib/logger.ts";
import { allStoreTargets, ctx, type Harness, openHarness } from "../../test-support/stores.ts";
import { type Receiver, startReceiver } from "../../test-support/webhook-receiver.ts";
import { createWebhookDispatcher, createWebhookEgress, createWebhooksService } from "./index.ts";

// Names resolve through this table only: no DNS query, and no packet to a non-loopback address.
const DNS: Record<string, string[]> = {
  "hooks.example.com": ["93.184.216.34"],
  "intranet.example": ["10.0.0.7"],
  "canary.example": ["127.0.0.1"],
  "rebind.example": ["93.184.216.34", "127.0.0.1"],
};
const lookup = async (host: string) => DNS[host] ?? [];

test("the static check: schemes, credentials, loopback, private and metadata addresses are refused; public ones pass", () => {
  const egress = createWebhookEgress({ allowHosts: [], lookup });
  for (const url of [
    "http://127.0.0.1:8080/hook",
    "http://[::1]/hook",
    "http://10.1.2.3/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://metadata.google.internal/",
    "http://2130706433/", // 127.0.0.1 written as a number
    "gopher://hooks.example.com/",
    "file:///etc/passwd",
    "https://user:pw@hooks.example.com/",
  ])
    assert.notEqual(egress.checkUrl(url), null, url);
  assert.equal(egress.checkUrl("https://hooks.example.com/modelgov"), null);
  assert.equal(
    egress.checkUrl("http://intranet.example/hook"),
    null,
    "a name is checked when it is resolved",
  );
  const allowed = createWebhookEgress({ allowHosts: ["127.0.0.1"], lookup });
  assert.equal(allowed.checkUrl("http://127.0.0.1:8080/hook"), null);
});

describe("webhook egress at connect time", () => {
  let canary: Receiver;
  before(async () => {
    canary = await startReceiver(() => ({ status: 204 }));
  });
  after(() => canary.close());

  test("a name that resolves to a private or loopback address is refused before any connection", async () => {
    const egress = createWebhookEgress({ allowHosts: [], lookup });
    const port = new URL(canary.url).port;
    for (const host of ["intranet.example", "canary.example", "rebind.example"])
      await assert.rejects(
        egress.fetch(`http://${host}:${port}/hook`, { method: "POST", body: "{}" }),
        (err: Error) => /egress refused/.test(`${err.message} ${(err.cause as Error)?.message ?? ""}`),
        host,
      );
    assert.equal(canary.received.length, 0, "the loopback canary got nothing");
    // Allow-listed, the same canary is reached.
    const allowed = createWebhookEgress({ allowHosts: ["127.0.0.1"], lookup });
    const res = await allowed.fetch(`http://canary.example:${port}/hook`, { method: "POST", body: "{}" });
    assert.equal(res.status, 204);
    assert.equal(canary.received.length, 1);
  });
});

for (const target of allStoreTargets()) {
  describe(`webhook subscriptions and deliveries through the guard on ${target.name}`, {
    skip: target.skip,
  }, () => {
    let h: Harness;
    let canary: Receiver;
    before(async () => {
      h = await openHarness(target);
      canary = await startReceiver(() => ({ status: 204 }));
    });
    after(async () => {
      await canary.close();
      await h.cleanup();
    });

    test("creating a subscription to a refused address is a 400 naming body.url; deliveries to one carry no probe", async () => {
      const egress = createWebhookEgress({ allowHosts: [], lookup });
      const guarded = createWebhooksService({ db: h.db, clock: h.clock, checkUrl: egress.checkUrl });
      await assert.rejects(
        guarded.create(ctx(), { url: canary.url, eventTypes: ["model.*"] }),
        (err: { code?: string; errors?: { field: string; reason: string }[] }) =>
          err.code === "invalid_input" &&
          err.errors?.[0]?.field === "body.url" &&
          /egress refused/.test(err.errors[0].reason),
      );
      // A name passes the static check; the delivery is refused when it resolves to loopback.
      const port = new URL(canary.url).port;
      const w = await guarded.create(ctx(), {
        url: `http://canary.example:${port}/hook`,
        eventTypes: ["model.*"],
      });
      await h.services.registry.createModel(ctx(), {
        name: "egress-watched",
        owner: "o",
        description: "",
        useCases: [],
        riskTier: "low",
        tags: [],
      });
      const d = createWebhookDispatcher({
        db: h.db,
        clock: h.clock,
        logger: createLogger("silent"),
        fetch: egress.fetch,
      });
      await d.runOnce();
      const [delivery] = await h.services.webhooks.deliveries(w.id);
      assert.equal(delivery!.status, "pending");
      assert.equal(delivery!.lastStatusCode, null);
      assert.match(delivery!.lastError ?? "", /egress refused/);
      assert.equal(canary.received.length, 0, "0 bytes reached the loopback canary");
      await h.services.webhooks.disable(ctx(), w.id);
    });
  });
}
