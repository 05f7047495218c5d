import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../lib/logger.ts";
import {
  allStoreTargets,
  ctx,
  type Harness,
  openHarness,
  readJson,
  SIM_PARAMS,
} from "../../test-support/stores.ts";
import {
  type Answer,
  type Received,
  type Receiver,
  startReceiver,
  unusedPort,
  verifyWithLibrary,
} from "../../test-support/webhook-receiver.ts";
import { createWebhookDispatcher, type DispatcherOptions, type WebhookCreated } from "./index.ts";

for (const target of allStoreTargets()) {
  describe(`webhook dispatcher on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    const receivers: Receiver[] = [];
    const subscriptions: WebhookCreated[] = [];
    before(async () => {
      h = await openHarness(target);
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await h.cleanup();
    });

    // random 0.5 takes 10% off each nominal backoff: 1 s → 900 ms, 2 s → 1800 ms.
    const dispatcher = (o: Partial<DispatcherOptions> = {}) =>
      createWebhookDispatcher({
        db: h.db,
        clock: h.clock,
        logger: createLogger("silent"),
        random: () => 0.5,
        attemptTimeoutMs: 5000,
        ...o,
      });
    const receiver = async (respond: (r: Received) => Answer, port?: number) => {
      const r = await startReceiver(respond, port);
      receivers.push(r);
      return r;
    };
    const subscribe = async (url: string, eventTypes: string[]) => {
      const w = await h.services.webhooks.create(ctx(), { url, eventTypes });
      subscriptions.push(w);
      return w;
    };
    // Each test starts with no live subscription, so it sees only its own deliveries.
    const disableAll = async () => {
      for (const w of subscriptions.splice(0)) await h.services.webhooks.disable(ctx(), w.id);
    };
    let n = 0;
    const newModel = () =>
      h.services.registry.createModel(ctx(), {
        name: `hooked-${++n}`,
        owner: "team-a",
        description: "",
        useCases: [],
        riskTier: "low",
        tags: [],
      });
    const deliveries = (w: { id: string }) => h.services.webhooks.deliveries(w.id);
    const waitMs = (d: { nextAttemptAt: string | null; lastAttemptAt: string | null }) =>
      Date.parse(d.nextAttemptAt!) - Date.parse(d.lastAttemptAt!);

    test("survives a receiver that fails its first attempts: one signed delivery per event, in order", async () => {
      await disableAll();
      const r = await receiver((x) => (x.nth <= 2 ? { status: 500, body: "not yet" } : { status: 204 }));
      const w = await subscribe(r.url, ["model.*"]);
      const models = [await newModel(), await newModel(), await newModel()];
      await h.tokenFor("unmatched", ["viewer"]); // token.created: no subscription wants it
      const d = dispatcher();

      const first = await d.runOnce();
      assert.equal(first.retrying, 3);
      for (const p of await deliveries(w)) {
        assert.deepEqual([p.status, p.attempts, p.lastStatusCode], ["pending", 1, 500]);
        assert.equal(p.lastError, "HTTP 500: not yet");
        assert.equal(waitMs(p), 900);
      }
      h.clock.advance(899);
      await d.runOnce();
      assert.equal(r.received.length, 3, "nothing is due before the backoff has passed");
      h.clock.advance(1);
      await d.runOnce();
      assert.equal(r.received.length, 6);
      for (const p of await deliveries(w)) assert.equal(waitMs(p), 1800);
      h.clock.advance(1800);
      assert.equal((await d.runOnce()).delivered, 3);
      // Standard Webhooks, checked by the official library as a receiver would: every attempt
      // verifies; the retries of a delivery carry its id; a changed body or a stale timestamp is refused.
      for (const x of r.received)
        assert.deepEqual(verifyWithLibrary(w.secret, x, h.clock.now()), JSON.parse(x.body));
      for (const p of await deliveries(w))
        assert.deepEqual(
          r.received.filter((x) => x.deliveryId === p.id).map((x) => x.attempt),
          [1, 2, 3],
          "the retries of one delivery share its webhook-id",
        );
      const last = r.accepted[0]!;
      assert.notEqual(r.received[0]!.timestamp, last.timestamp, "each attempt is signed afresh");
      assert.throws(
        () =>
          verifyWithLibrary(
            w.secret,
            { ...last, body: last.body.replace("alice", "mallory") },
            h.clock.now(),
          ),
        /No matching signature/,
      );
      assert.throws(
        () => verifyWithLibrary(w.secret, last, new Date(Number(last.timestamp) * 1000 + 301_000)),
        /too old/,
      );
      assert.equal(last.headers["x-modelgov-signature"], undefined, "no legacy header on a new subscription");
      h.clock.advance(3_600_000);
      await d.runOnce();

      assert.equal(r.received.length, 9, "no attempt after acceptance");
      assert.equal(r.accepted.length, 3);
      assert.equal(new Set(r.accepted.map((x) => x.deliveryId)).size, 3, "one accepted delivery per event");
      const bodies = r.accepted.map((x) => JSON.parse(x.body));
      assert.deepEqual(
        bodies.map((b) => b.subject.id),
        models.map((m) => m.id),
      );
      assert.deepEqual(
        bodies.map((b) => b.seq),
        [...bodies.map((b) => b.seq)].sort((a, b) => a - b),
      );
      for (const x of r.accepted) {
        assert.equal(x.headers["content-type"], "application/json");
        assert.equal(x.event, "model.created");
        assert.equal(x.attempt, 3);
        assert.equal(JSON.parse(x.body).actor, "alice");
      }
      for (const p of await deliveries(w))
        assert.deepEqual([p.status, p.attempts, p.lastStatusCode, p.lastError], ["delivered", 3, 204, null]);

      const unmatched = await h.db.query<{ dispatched_at: Date | null; n: unknown }>(
        `SELECT o.dispatched_at, (SELECT count(*) FROM webhook_deliveries d WHERE d.audit_id = o.audit_id) AS n
           FROM event_outbox o WHERE o.action = 'token.created'`,
      );
      assert.ok(unmatched.length >= 2);
      for (const u of unmatched) {
        assert.ok(u.dispatched_at, "an event nobody subscribes to is still marked dispatched");
        assert.equal(Number(u.n), 0);
      }
    });

    test("each subscription gets only the event types it asked for, from its creation on", async () => {
      await disableAll();
      const early = await newModel(); // recorded before any subscription below exists
      h.clock.advance(1000);
      const rModels = await receiver(() => ({ status: 200 }));
      const rVersions = await receiver(() => ({ status: 200 }));
      const rAll = await receiver(() => ({ status: 200 }));
      await subscribe(rModels.url, ["model.*"]);
      await subscribe(rVersions.url, ["version.registered"]);
      await subscribe(rAll.url, ["*"]);
      const m = await newModel();
      await h.services.registry.updateModel(ctx(), m.name, { owner: "team-b" });
      await h.services.registry.registerVersion(ctx(), m.name, {
        version: "1.0.0",
        provider: "simulator",
        providerModelId: "sim",
        parameters: SIM_PARAMS,
        changelog: "",
        metrics: {},
        limitations: [],
        tags: [],
      });
      await dispatcher().runOnce();

      const types = (r: Receiver) => r.accepted.map((x) => x.event);
      assert.ok(types(rModels).includes("model.created"), String(types(rModels)));
      assert.ok(
        types(rModels).every((t) => t.startsWith("model.")),
        String(types(rModels)),
      );
      assert.deepEqual(types(rVersions), ["version.registered"]);
      assert.ok(types(rAll).includes("webhook.created") && types(rAll).includes("version.registered"));
      const subjects = [rModels, rVersions, rAll].flatMap((r) => r.accepted.map((x) => JSON.parse(x.body)));
      assert.ok(!subjects.some((b) => b.subject.id === early.id), "no backlog from before the subscription");
      for (const x of rVersions.accepted) assert.equal(JSON.parse(x.body).type, x.event);
    });

    test("honours Retry-After on 503", async () => {
      await disableAll();
      const r = await receiver((x) =>
        x.nth === 1 ? { status: 503, headers: { "retry-after": "120" } } : { status: 200 },
      );
      const w = await subscribe(r.url, ["model.*"]);
      await newModel();
      const d = dispatcher();
      await d.runOnce();
      const [p] = await deliveries(w);
      assert.equal(waitMs(p!), 120_000);
      h.clock.advance(119_000);
      await d.runOnce();
      assert.equal(r.received.length, 1);
      h.clock.advance(1000);
      await d.runOnce();
      assert.equal(r.accepted.length, 1);
    });

    test("a receiver that is down keeps the delivery pending until it comes up", async () => {
      await disableAll();
      const port = await unusedPort();
      const w = await subscribe(`http://127.0.0.1:${port}/hook`, ["model.*"]);
      await newModel();
      const d = dispatcher();
      await d.runOnce();
      h.clock.advance(60_000);
      await d.runOnce();
      const [p] = await deliveries(w);
      assert.deepEqual([p!.status, p!.attempts, p!.lastStatusCode], ["pending", 2, null]);
      assert.match(p!.lastError!, /ECONNREFUSED/);

      const r = await receiver(() => ({ status: 200 }), port);
      h.clock.advance(60_000);
      await d.runOnce();
      assert.equal(r.accepted.length, 1);
      const [done] = await deliveries(w);
      assert.deepEqual([done!.status, done!.attempts], ["delivered", 3]);
      assert.ok(verifyWithLibrary(w.secret, r.accepted[0]!, h.clock.now()));
    });

    test("gives up after maxAttempts; the retry endpoint re-queues the failed delivery", async () => {
      await disableAll();
      let up = false;
      const r = await receiver(() => (up ? { status: 200 } : { status: 500 }));
      const w = await subscribe(r.url, ["model.*"]);
      await newModel();
      const d = dispatcher({ maxAttempts: 3 });
      for (let i = 0; i < 5; i++) {
        await d.runOnce();
        h.clock.advance(3_600_000);
      }
      assert.equal(r.received.length, 3);
      const [failed] = await deliveries(w);
      assert.deepEqual([failed!.status, failed!.attempts, failed!.lastStatusCode], ["failed", 3, 500]);
      assert.equal(failed!.nextAttemptAt, null);

      up = true;
      const path = `/api/v1/webhooks/${w.id}/deliveries/${failed!.id}/retry`;
      const res = await h.request(path, { method: "POST" });
      assert.equal(res.status, 200);
      const requeued = await readJson(res);
      assert.deepEqual([requeued.status, requeued.attempts], ["pending", 0]);
      await d.runOnce();
      assert.equal(r.accepted.length, 1);
      const [done] = await deliveries(w);
      assert.deepEqual([done!.status, done!.attempts], ["delivered", 1]);
      const again = await h.request(path, { method: "POST" });
      assert.equal(again.status, 409);
      assert.equal(again.headers.get("content-type"), "application/problem+json");
    });

    test("a claimed delivery whose worker died is picked up after the claim expires; the late result is fenced out", async () => {
      await disableAll();
      const r = await receiver(() => ({ status: 200 }));
      const w = await subscribe(r.url, ["model.*"]);
      await newModel();
      let called!: () => void;
      const fetchCalled = new Promise<void>((resolve) => {
        called = resolve;
      });
      let answerLate!: (res: Response) => void;
      const crashed = dispatcher({
        fetch: () => {
          called();
          return new Promise<Response>((resolve) => {
            answerLate = resolve;
          });
        },
      });
      const stuck = crashed.runOnce();
      await fetchCalled;

      const healthy = dispatcher();
      await healthy.runOnce();
      assert.equal(r.received.length, 0, "a claimed delivery is not sent twice while its claim holds");
      const [claimed] = await deliveries(w);
      assert.deepEqual([claimed!.status, claimed!.attempts], ["pending", 1]);
      assert.equal(waitMs(claimed!), 10_000, "claim lease: its queue position plus one attempt timeout");

      h.clock.advance(10_000);
      await healthy.runOnce();
      assert.equal(r.accepted.length, 1);
      answerLate(new Response("late", { status: 500 }));
      await stuck;
      const [done] = await deliveries(w);
      assert.deepEqual([done!.status, done!.attempts, done!.lastStatusCode], ["delivered", 2, 200]);
    });

    test("two dispatchers running at once (replicas) send each event once", async () => {
      await disableAll();
      const r = await receiver(() => ({ status: 200 }));
      const w = await subscribe(r.url, ["model.*"]);
      for (let i = 0; i < 12; i++) await newModel();
      const [a, b] = [dispatcher({ batchSize: 5 }), dispatcher({ batchSize: 5 })];
      const passes = await Promise.all([a.runOnce(), b.runOnce(), a.runOnce()]);
      // Which pass gets which events depends on timing (a pass that finds the outbox locked
      // by the other's fan-out may claim nothing yet); a pass run after them picks up the rest.
      // What may never happen is an event sent twice.
      passes.push(await b.runOnce(), await a.runOnce());
      assert.equal(
        passes.reduce((sum, p) => sum + p.delivered, 0),
        12,
      );
      assert.equal(r.accepted.length, 12);
      assert.equal(new Set(r.accepted.map((x) => x.deliveryId)).size, 12);
      for (const p of await deliveries(w)) assert.deepEqual([p.status, p.attempts], ["delivered", 1]);
    });

    test("disabling a subscription fails its pending deliveries and stops sending", async () => {
      await disableAll();
      const r = await receiver(() => ({ status: 500 }));
      const w = await subscribe(r.url, ["model.*"]);
      await newModel();
      const d = dispatcher();
      await d.runOnce();
      await h.services.webhooks.disable(ctx(), w.id);
      subscriptions.splice(subscriptions.indexOf(w), 1);
      h.clock.advance(3_600_000);
      await d.runOnce();
      assert.equal(r.received.length, 1);
      const [p] = await deliveries(w);
      assert.deepEqual([p!.status, p!.lastError], ["failed", "subscription disabled"]);
    });

    test("a dead or failing subscriber holds up nobody else: claims are shared, queues run on their own", async () => {
      await disableAll();
      const dead = await receiver(() => ({ status: 500, body: "down" }));
      const healthy = await receiver(() => ({ status: 204 }));
      const hanging = await receiver(() => ({ status: 204 }));
      const a = await subscribe(dead.url, ["model.*"]);
      for (let i = 0; i < 60; i++) await newModel();
      const d = dispatcher({ batchSize: 5 });
      await d.runOnce(); // 60 failed attempts: a backlog due again after the backoff
      const b = await subscribe(healthy.url, ["model.*"]);
      for (let i = 0; i < 5; i++) await newModel();
      h.clock.advance(10_000);
      // Before, claims were the oldest due deliveries: twelve batches of the failing backlog,
      // and the pass ended (after ten) before the healthy subscriber's turn.
      await d.runOnce();
      assert.equal((await deliveries(b)).filter((x) => x.status === "delivered").length, 5);
      assert.ok((await deliveries(a)).every((x) => x.status === "pending"));

      // A receiver that accepts the connection and never answers: its queue waits on its own.
      const c = await subscribe(hanging.url, ["model.*"]);
      let release!: () => void;
      const stuck = new Promise<void>((r) => {
        release = r;
      });
      const loop = dispatcher({
        intervalMs: 5,
        attemptTimeoutMs: 60_000,
        fetch: (url, init) =>
          String(url) === hanging.url
            ? new Promise<Response>((_resolve, reject) => {
                stuck.then(() => reject(new Error("gave up")));
                init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
              })
            : fetch(url, init),
      });
      const before = healthy.received.length;
      for (let i = 0; i < 5; i++) await newModel();
      loop.start();
      const until = Date.now() + 10_000;
      while (healthy.received.length < before + 5 && Date.now() < until)
        await new Promise((r) => setTimeout(r, 10));
      assert.equal(healthy.received.length, before + 5, "delivered while the other receiver hangs");
      assert.equal((await deliveries(c)).filter((x) => x.status === "delivered").length, 0);
      release();
      await loop.stop();
    });

    test("start() delivers in the background; stop() hands an attempt in flight back", async () => {
      await disableAll();
      const r = await receiver(() => ({ status: 200 }));
      const w = await subscribe(r.url, ["model.*"]);
      await newModel();
      let delivered!: () => void;
      const passDelivered = new Promise<void>((resolve) => {
        delivered = resolve;
      });
      const loop = dispatcher({ intervalMs: 10, onPass: (p) => p.delivered > 0 && delivered() });
      loop.start();
      await passDelivered;
      await loop.stop();
      assert.equal((await deliveries(w))[0]!.status, "delivered");

      let inFlight!: () => void;
      const sending = new Promise<void>((resolve) => {
        inFlight = resolve;
      });
      const hanging = dispatcher({
        intervalMs: 10,
        fetch: (_url, init) =>
          new Promise<Response>((_resolve, reject) => {
            inFlight();
            init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
          }),
      });
      await newModel();
      hanging.start();
      await sending;
      await hanging.stop();
      const held = (await deliveries(w)).find((x) => x.status === "pending");
      assert.ok(held, "the interrupted delivery is still pending");
      assert.equal(held.attempts, 0, "an attempt cut short by shutdown is not charged");
      assert.equal(Date.parse(held.nextAttemptAt!), h.clock.now().getTime());
    });
  });
}
