import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { allStoreTargets, type Harness, openHarness, readJson } from "../../test-support/stores.ts";
import { listAudit } from "../audit/index.ts";
import { webhookKey } from "./signature.ts";

const json = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

for (const target of allStoreTargets()) {
  describe(`webhooks API on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    before(async () => {
      h = await openHarness(target);
    });
    after(async () => h.cleanup());

    test("create returns the secret once; list and the audit log never show it", async () => {
      const res = await h.request(
        "/api/v1/webhooks",
        json({
          url: "https://hooks.example.com/modelgov",
          eventTypes: ["version.status_changed", "approval.*"],
        }),
      );
      assert.equal(res.status, 201);
      const created = await readJson(res);
      assert.match(created.id, /^whk_/);
      // Standard Webhooks: whsec_ + base64 (not base64url) of 32 random bytes.
      assert.match(created.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
      assert.equal(webhookKey(created.secret).length, 32);
      assert.equal(created.legacySignature, false);
      assert.equal(created.name, "hooks.example.com");
      assert.equal(created.active, true);
      assert.equal(created.secretPrefix, `${created.secret.slice(0, 10)}…`);

      const list = await readJson(await h.request("/api/v1/webhooks"));
      const listed = list.find((w: { id: string }) => w.id === created.id);
      assert.ok(listed);
      assert.equal("secret" in listed, false);
      assert.ok(!JSON.stringify(list).includes(created.secret));

      const [event] = await listAudit(h.db, { subjectId: created.id });
      assert.equal(event?.action, "webhook.created");
      assert.ok(!JSON.stringify(event).includes(created.secret.slice(10)), "no secret in the audit log");
    });

    test("a viewer gets 403 on every webhook endpoint", async () => {
      const viewer = await h.tokenFor("vic", ["viewer"]);
      for (const [path, init] of [
        ["/api/v1/webhooks", {}],
        ["/api/v1/webhooks", json({ url: "https://x.example", eventTypes: ["*"] })],
        ["/api/v1/webhooks/whk_x/disable", { method: "POST" }],
        ["/api/v1/webhooks/whk_x/deliveries", {}],
      ] as const) {
        const res = await h.request(path, init, viewer);
        assert.equal(res.status, 403, path);
        assert.equal((await readJson(res)).code, "forbidden");
      }
    });

    test("bad URLs and event patterns are problem+json naming the field", async () => {
      for (const [body, field] of [
        [{ url: "ftp://files.example.com/x", eventTypes: ["*"] }, "body.url"],
        [{ url: "not a url", eventTypes: ["*"] }, "body.url"],
        [{ url: "https://x.example", eventTypes: [] }, "body.eventTypes"],
        [{ url: "https://x.example", eventTypes: ["Model.Created"] }, "body.eventTypes.0"],
        [{ url: "https://x.example", eventTypes: ["model.*.x"] }, "body.eventTypes.0"],
        [{ url: "https://x.example", eventTypes: ["*"], secret: "mine" }, "body"],
      ] as const) {
        const res = await h.request("/api/v1/webhooks", json(body));
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.headers.get("content-type"), "application/problem+json");
        const problem = await readJson(res);
        assert.equal(problem.code, "invalid_input");
        assert.ok(
          problem.errors.some((e: { field: string }) => e.field === field),
          `${JSON.stringify(problem.errors)} should name ${field}`,
        );
      }
    });

    test("disable is audited and refused twice; unknown ids are 404", async () => {
      const w = await readJson(
        await h.request(
          "/api/v1/webhooks",
          json({ name: "ops", url: "http://127.0.0.1:9/x", eventTypes: ["*"] }),
        ),
      );
      const res = await h.request(`/api/v1/webhooks/${w.id}/disable`, { method: "POST" });
      assert.equal(res.status, 200);
      const disabled = await readJson(res);
      assert.equal(disabled.active, false);
      assert.equal(disabled.disabledBy, "admin");
      assert.equal((await h.request(`/api/v1/webhooks/${w.id}/disable`, { method: "POST" })).status, 409);
      const actions = (await listAudit(h.db, { subjectId: w.id })).map((e) => e.action);
      assert.deepEqual(actions, ["webhook.created", "webhook.disabled"]);

      assert.equal((await h.request("/api/v1/webhooks/whk_nope/disable", { method: "POST" })).status, 404);
      assert.equal((await h.request("/api/v1/webhooks/whk_nope/deliveries")).status, 404);
      const retry = await h.request(`/api/v1/webhooks/${w.id}/deliveries/whd_nope/retry`, { method: "POST" });
      assert.equal(retry.status, 409, "a disabled subscription is not retried");
      assert.deepEqual(
        await readJson(await h.request(`/api/v1/webhooks/${w.id}/deliveries?status=failed`)),
        [],
      );
      assert.equal((await h.request(`/api/v1/webhooks/${w.id}/deliveries?status=lost`)).status, 400);
    });

    test("the OpenAPI document lists the webhook endpoints with their permission", async () => {
      const doc = await readJson(await h.request("/api/v1/openapi.json"));
      const op = doc.paths?.["/api/v1/webhooks/{id}/deliveries/{deliveryId}/retry"]?.post;
      assert.ok(op, Object.keys(doc.paths ?? {}).join(", "));
      assert.equal(op["x-permission"], "webhooks:admin");
    });
  });
}
