import assert from "node:assert/strict";
import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../lib/logger.ts";
import { ctx, type Harness, openHarness, storeTargets } from "../../test-support/stores.ts";
import { createWebhookDispatcher } from "./index.ts";

type HandlerFactory = (
  secret: string,
  onEvent: (event: { type: string }, id: string) => unknown,
  seen?: Set<string>,
) => RequestListener;

// The receiver docs/webhooks.md shows (examples/webhooks/receiver.mjs), run against real deliveries.
describe("the example receiver (examples/webhooks/receiver.mjs)", () => {
  let h: Harness;
  let webhookHandler: HandlerFactory;
  before(async () => {
    h = await openHarness(storeTargets()[0]!);
    const url = new URL("../../../examples/webhooks/receiver.mjs", import.meta.url).href;
    ({ webhookHandler } = (await import(url)) as { webhookHandler: HandlerFactory });
  });
  after(() => h.cleanup());

  test("takes a delivery once (a resend of the same webhook-id is not handled again) and answers 400 to a forgery", async () => {
    // The library checks the timestamp against the wall clock: sign with it.
    h.clock.advance(Date.now() - h.clock.now().getTime());
    const events: string[] = [];
    const got: { headers: Record<string, string>; body: string }[] = [];
    let handle: RequestListener = () => {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () =>
        got.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString() }),
      );
      handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const w = await h.services.webhooks.create(ctx(), { url, eventTypes: ["model.*"] });
      handle = webhookHandler(w.secret, (e, id) => events.push(`${id} ${e.type}`));
      await h.services.registry.createModel(ctx(), {
        name: "received",
        owner: "team-a",
        description: "",
        useCases: [],
        riskTier: "low",
        tags: [],
      });
      await createWebhookDispatcher({ db: h.db, clock: h.clock, logger: createLogger("silent") }).runOnce();
      const [delivery] = await h.services.webhooks.deliveries(w.id);
      assert.equal(delivery!.status, "delivered");
      assert.deepEqual(events, [`${delivery!.id} model.created`]);

      const send = (headers: Record<string, string>, body: string) =>
        fetch(url, { method: "POST", headers, body });
      const { "content-length": _, host: __, connection: ___, ...headers } = got[0]!.headers;
      assert.equal((await send(headers, got[0]!.body)).status, 204, "a retry is acknowledged");
      assert.equal(events.length, 1, "and not handled twice");
      const tampered = await send(headers, got[0]!.body.replace("alice", "mallory"));
      assert.equal(tampered.status, 400);
      assert.equal(await tampered.text(), "No matching signature found");
      const forged = await send({ ...headers, "webhook-id": "whd_forged" }, got[0]!.body);
      assert.equal(forged.status, 400);
      assert.equal(events.length, 1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
