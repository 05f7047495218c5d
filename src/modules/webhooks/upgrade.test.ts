import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { manualClock } from "../../lib/clock.ts";
import { createLogger } from "../../lib/logger.ts";
import { createServices } from "../../services.ts";
import type { Db } from "../../store/db.ts";
import { loadMigrations, migrate } from "../../store/migrate.ts";
import { allStoreTargets, ctx } from "../../test-support/stores.ts";
import { type Receiver, startReceiver, verifyWithLibrary } from "../../test-support/webhook-receiver.ts";
import { createWebhookDispatcher, standardSecretOf } from "./index.ts";

const MIGRATION = "20261216050000_webhook_standard_secrets.sql";

for (const target of allStoreTargets()) {
  describe(`upgrading webhook subscriptions to Standard Webhooks on ${target.name}`, {
    skip: target.skip,
  }, () => {
    let db: Db;
    let cleanup: () => Promise<void>;
    let receiver: Receiver;
    before(async () => {
      ({ db, cleanup } = await target.open());
      receiver = await startReceiver(() => ({ status: 204 }));
    });
    after(async () => {
      await receiver.close();
      await cleanup();
    });

    test("an existing secret keeps verifying, both ways, and the operator is told", async () => {
      const all = loadMigrations();
      assert.ok(all.some((m) => m.name === MIGRATION));
      await migrate(
        db,
        all.filter((m) => m.name < MIGRATION),
      );
      // A subscription as the code before Standard Webhooks created it: its text is the HMAC key.
      const old = `whsec_${randomBytes(32).toString("base64url")}`;
      await db.query(
        `INSERT INTO webhook_subscriptions (id, name, url, event_types, secret, created_by, created_at)
         VALUES ('whk_old', 'old', $1, '{model.*}', $2, 'alice', '2026-02-01T00:00:00Z')`,
        [receiver.url, old],
      );
      assert.deepEqual(
        await migrate(db),
        all.filter((m) => m.name >= MIGRATION).map((m) => m.name),
      );
      // A replica still on the old code cannot store an old-style secret any more.
      await assert.rejects(
        db.query(
          `INSERT INTO webhook_subscriptions (id, name, url, event_types, secret, created_by, created_at)
           VALUES ('whk_late', 'late', $1, '{*}', $2, 'bob', now())`,
          [receiver.url, `whsec_${randomBytes(32).toString("base64url")}`],
        ),
        /webhook_subscriptions_standard_secret/,
      );

      const clock = manualClock(new Date("2026-03-01T09:00:00Z"));
      const services = createServices({ db, clock });
      const fresh = await services.webhooks.create(ctx(), { url: receiver.url, eventTypes: ["model.*"] });
      const listed = await services.webhooks.list();
      assert.deepEqual(
        listed.map((w) => [w.id, w.legacySignature, w.secretPrefix]),
        [
          ["whk_old", true, `${old.slice(0, 10)}…`],
          [fresh.id, false, `${fresh.secret.slice(0, 10)}…`],
        ],
      );

      const lines: string[] = [];
      const sink = new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      });
      const d = createWebhookDispatcher({ db, clock, logger: createLogger("warn", sink) });
      assert.deepEqual(await d.warnLegacy(), ["whk_old"]);
      assert.match(lines.join(""), /whk_old.*legacy x-modelgov-signature/);

      await services.registry.createModel(ctx(), {
        name: "upgraded",
        owner: "team-a",
        description: "",
        useCases: [],
        riskTier: "low",
        tags: [],
      });
      assert.equal((await d.runOnce()).delivered, 2);
      const bySub = async (id: string) => (await services.webhooks.deliveries(id))[0]!.id;
      const got = (deliveryId: string) => receiver.accepted.find((x) => x.deliveryId === deliveryId)!;
      const oldGot = got(await bySub("whk_old"));
      const newGot = got(await bySub(fresh.id));

      // The receiver written for the old headers verifies as before, with the secret it holds.
      const ts = oldGot.headers["x-modelgov-timestamp"];
      assert.equal(ts, oldGot.timestamp);
      assert.equal(
        oldGot.headers["x-modelgov-signature"],
        `sha256=${createHmac("sha256", old).update(`${ts}.${oldGot.body}`).digest("hex")}`,
      );
      // The same secret, written as a standard one, verifies with the official library.
      assert.ok(verifyWithLibrary(standardSecretOf(old), oldGot, clock.now()));
      assert.ok(verifyWithLibrary(fresh.secret, newGot, clock.now()));
      assert.equal(newGot.headers["x-modelgov-signature"], undefined);
    });
  });
}
