import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { backoffDelay, DEFAULT_BACKOFF, parseRetryAfter } from "./backoff.ts";
import { matchesEventType } from "./dispatcher.ts";
import { signWebhook, verifyWebhookSignature } from "./signature.ts";

const SECRET = "whsec_reference";
const TS = 1764000000;
const BODY = '{"id":"aud_1","type":"model.created"}';
const AT = new Date(TS * 1000);

describe("webhook signatures", () => {
  test("match OpenSSL's HMAC-SHA256 of '<timestamp>.<body>'", () => {
    // Reference: printf '%s' '1764000000.<body>' | openssl dgst -sha256 -hmac 'whsec_reference'
    assert.equal(
      signWebhook(SECRET, TS, BODY),
      "sha256=bc8d060f08467e9b7950b563fae2f27cd416657f9abe4ca122c12f3747ded63d",
    );
  });

  test("verify accepts the genuine request, alone or beside another signature", () => {
    const sig = signWebhook(SECRET, TS, BODY);
    assert.equal(verifyWebhookSignature(SECRET, String(TS), BODY, sig, 300, AT), true);
    assert.equal(verifyWebhookSignature(SECRET, TS, BODY, `sha256=00ff, ${sig}`, 300, AT), true);
  });

  test("verify rejects a tampered body, a wrong secret, a moved timestamp and junk headers", () => {
    const sig = signWebhook(SECRET, TS, BODY);
    assert.equal(verifyWebhookSignature(SECRET, TS, BODY.replace("model", "modex"), sig, 300, AT), false);
    assert.equal(verifyWebhookSignature("whsec_other", TS, BODY, sig, 300, AT), false);
    assert.equal(verifyWebhookSignature(SECRET, TS + 1, BODY, sig, 300, AT), false);
    for (const header of ["", "sha256=", sig.toUpperCase(), sig.replace("sha256", "sha1"), null])
      assert.equal(verifyWebhookSignature(SECRET, TS, BODY, header, 300, AT), false, String(header));
    assert.equal(verifyWebhookSignature(SECRET, "17e8", BODY, sig, 300, AT), false);
  });

  test("verify rejects a replay outside the tolerance, in either direction", () => {
    const sig = signWebhook(SECRET, TS, BODY);
    const later = (s: number) => new Date((TS + s) * 1000);
    assert.equal(verifyWebhookSignature(SECRET, TS, BODY, sig, 300, later(300)), true);
    assert.equal(verifyWebhookSignature(SECRET, TS, BODY, sig, 300, later(301)), false);
    assert.equal(verifyWebhookSignature(SECRET, TS, BODY, sig, 300, later(-301)), false);
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
