import assert from "node:assert/strict";
import { test } from "node:test";
import { retryAfterMs } from "./retry-after.ts";

const now = new Date("2026-01-01T00:00:00Z");

test("Retry-After in seconds, as an HTTP date, and OpenAI's retry-after-ms", () => {
  assert.equal(retryAfterMs({ "retry-after": "2" }, now), 2000);
  assert.equal(retryAfterMs({ "retry-after": "0.5" }, now), 500);
  // RFC 9110's IMF-fixdate example form.
  assert.equal(retryAfterMs({ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }, now), 30_000);
  assert.equal(retryAfterMs({ "retry-after": "Wed, 31 Dec 2025 23:59:00 GMT" }, now), 0);
  assert.equal(retryAfterMs({ "retry-after-ms": "1500", "retry-after": "2" }, now), 1500);
});

test("absent or unreadable is undefined", () => {
  assert.equal(retryAfterMs({}, now), undefined);
  assert.equal(retryAfterMs({ "retry-after": "soon" }, now), undefined);
  assert.equal(retryAfterMs({ "retry-after": "-3" }, now), undefined);
});
