import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { verifyWithLibrary } from "../../test-support/webhook-receiver.ts";
import { backoffDelay, DEFAULT_BACKOFF, parseRetryAfter } from "./backoff.ts";
import { matchesEventType } from "./dispatcher.ts";
import { signatureHeaders, signWebhook, standardSecretOf, verifyWebhook, webhookKey } from "./signature.ts";

// The test vector of the Standard Webhooks specification (and of Svix's libraries).
const SPEC = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  ts: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};
const at = (s: number) => new Date((SPEC.ts + s) * 1000);

describe("webhook signatures (Standard Webhooks)", () => {
  test("match the specification's test vector", () => {
    assert.equal(signWebhook(SPEC.secret, SPEC.id, SPEC.ts, SPEC.body), SPEC.signature);
  });

  test("the official library verifies our headers; ours verifies the library's signatures", () => {
    const secret = `whsec_${randomBytes(24).toString("base64")}`;
    const headers = signatureHeaders([secret], "whd_1", SPEC.ts, SPEC.body);
    assert.deepEqual(Object.keys(headers), ["webhook-id", "webhook-timestamp", "webhook-signature"]);
    assert.deepEqual(verifyWithLibrary(secret, { headers, body: SPEC.body }, at(0)), { test: 2432232314 });
    const theirs = new Webhook(secret).sign("whd_1", at(0), SPEC.body);
    assert.equal(theirs, headers["webhook-signature"]);
    assert.equal(verifyWebhook(secret, headers, SPEC.body, 300, at(0)), true);
  });

  test("several secrets sign a space-separated list; any one verifies", () => {
    const [a, b] = [
      `whsec_${randomBytes(32).toString("base64")}`,
      `whsec_${randomBytes(32).toString("base64")}`,
    ];
    const headers = signatureHeaders([a, b], "whd_2", SPEC.ts, SPEC.body);
    assert.equal(headers["webhook-signature"]!.split(" ").length, 2);
    for (const s of [a, b]) {
      assert.ok(verifyWithLibrary(s, { headers, body: SPEC.body }, at(0)));
      assert.equal(verifyWebhook(s, headers, SPEC.body, 300, at(0)), true);
    }
  });

  test("verify rejects a tampered body or id, a wrong secret, a moved timestamp and junk headers", () => {
    const h = signatureHeaders([SPEC.secret], SPEC.id, SPEC.ts, SPEC.body);
    const ok = (headers: Record<string, string>, body = SPEC.body, secret = SPEC.secret) =>
      verifyWebhook(secret, headers, body, 300, at(0));
    assert.equal(ok(h), true);
    assert.equal(ok(h, SPEC.body.replace("2432", "2433")), false);
    assert.equal(ok({ ...h, "webhook-id": "msg_other" }), false);
    assert.equal(ok(h, SPEC.body, `whsec_${randomBytes(24).toString("base64")}`), false);
    assert.equal(ok({ ...h, "webhook-timestamp": String(SPEC.ts + 1) }), false);
    for (const sig of ["", "v1,", SPEC.signature.replace("v1", "v2"), SPEC.signature.toLowerCase()])
      assert.equal(ok({ ...h, "webhook-signature": sig }), false, sig);
    assert.equal(ok({ ...h, "webhook-signature": `v1,AAAA ${SPEC.signature}` }), true);
    assert.equal(ok({ ...h, "webhook-timestamp": "16e8" }), false);
  });

  test("verify rejects a replay outside the tolerance, in either direction", () => {
    const h = signatureHeaders([SPEC.secret], SPEC.id, SPEC.ts, SPEC.body);
    assert.equal(verifyWebhook(SPEC.secret, h, SPEC.body, 300, at(300)), true);
    assert.equal(verifyWebhook(SPEC.secret, h, SPEC.body, 300, at(301)), false);
    assert.equal(verifyWebhook(SPEC.secret, h, SPEC.body, 300, at(-301)), false);
  });

  test("a secret must be whsec_ and base64", () => {
    assert.equal(webhookKey(SPEC.secret).length, 24);
    for (const bad of ["whsec_", "whsec_a-b_", "whsec_abc", "whsec_ab=c"])
      assert.throws(() => webhookKey(bad), /base64/, bad);
  });

  test("a secret from before Standard Webhooks keeps its key, and its legacy header its value", () => {
    // Reference: printf '%s' '1764000000.<body>' | openssl dgst -sha256 -hmac 'whsec_reference'
    const body = '{"id":"aud_1","type":"model.created"}';
    const migrated = standardSecretOf("whsec_reference");
    assert.equal(webhookKey(migrated).toString("utf8"), "whsec_reference");
    const h = signatureHeaders([migrated], "whd_3", 1764000000, body, true);
    assert.equal(h["x-modelgov-timestamp"], "1764000000");
    assert.equal(
      h["x-modelgov-signature"],
      "sha256=bc8d060f08467e9b7950b563fae2f27cd416657f9abe4ca122c12f3747ded63d",
    );
    assert.ok(verifyWithLibrary(migrated, { headers: h, body }, new Date(1764000000_000)));
    assert.equal("x-modelgov-signature" in signatureHeaders([migrated], "whd_3", 1764000000, body), false);
  });
});

describe("retry timing", () => {
  test("doubles from 1 s and stops growing at 1 h; jitter only shortens", () => {
    const nominal = Array.from({ length: 14 }, (_, i) => backoffDelay(i + 1, DEFAULT_BACKOFF, () => 0));
    assert.deepEqual(nominal.slice(0, 5), [1000, 2000, 4000, 8000, 16000]);
    assert.equal(nominal[11], 2048_000);
    assert.equal(nominal[12], 3_600_000);
    assert.equal(nominal[13], 3_600_000);
    assert.equal(
      backoffDelay(3, DEFAULT_BACKOFF, () => 1),
      3200,
    );
    assert.equal(
      backoffDelay(3, DEFAULT_BACKOFF, () => 0.5),
      3600,
    );
  });

  test("Retry-After is read as seconds or as an HTTP date", () => {
    const now = new Date("2026-03-01T09:00:00Z");
    assert.equal(parseRetryAfter("120", now), 120_000);
    assert.equal(parseRetryAfter("Sun, 01 Mar 2026 09:00:30 GMT", now), 30_000);
    assert.equal(parseRetryAfter("Sun, 01 Mar 2026 08:00:00 GMT", now), 0);
    assert.equal(parseRetryAfter("soon", now), null);
    assert.equal(parseRetryAfter(null, now), null);
  });
});

describe("event type patterns", () => {
  test("exact names, prefix patterns and *", () => {
    assert.equal(matchesEventType(["version.registered"], "version.registered"), true);
    assert.equal(matchesEventType(["version.registered"], "version.status_changed"), false);
    assert.equal(matchesEventType(["approval.*"], "approval.signed"), true);
    assert.equal(matchesEventType(["approval.*"], "approval"), false);
    assert.equal(matchesEventType(["approval.*"], "approvals.signed"), false);
    assert.equal(matchesEventType(["model.*", "token.created"], "token.created"), true);
    assert.equal(matchesEventType(["*"], "anything.at_all"), true);
  });
});
