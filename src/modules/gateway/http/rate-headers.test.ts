import assert from "node:assert/strict";
import { test } from "node:test";
import { goDuration, rateLimitHeaders } from "./rate-headers.ts";

test("durations print as Go's time.Duration, OpenAI's reset format", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [20, "20ms"],
    [999, "999ms"],
    [1000, "1s"],
    [1500, "1.5s"],
    [1234, "1.234s"],
    [60_000, "1m0s"],
    [360_000, "6m0s"],
    [90_500, "1m30.5s"],
    [3_600_000, "1h0m0s"],
    [3_723_000, "1h2m3s"],
  ];
  for (const [ms, text] of cases) assert.equal(goDuration(ms), text, `${ms} ms`);
});

test("OpenAI's headers everywhere, Anthropic's on Messages, nothing when the bucket says too little", () => {
  const limit = { ok: true, retryAfterSec: 0, limit: 20, ratePerSec: 10, remaining: 17, resetMs: 300 };
  const now = () => Date.parse("2026-12-07T12:00:00.900Z");
  const openai: Record<string, string> = {};
  rateLimitHeaders(limit, "responses", now, openai);
  assert.deepEqual(openai, {
    "x-ratelimit-limit-requests": "20",
    "x-ratelimit-remaining-requests": "17",
    "x-ratelimit-reset-requests": "300ms",
  });
  const anthropic: Record<string, string> = {};
  rateLimitHeaders(limit, "anthropic", now, anthropic);
  // 12:00:01.200 rounded up to the whole second.
  assert.equal(anthropic["anthropic-ratelimit-requests-reset"], "2026-12-07T12:00:02Z");
  assert.equal(anthropic["anthropic-ratelimit-requests-remaining"], "17");
  const none: Record<string, string> = {};
  rateLimitHeaders({ ok: true, retryAfterSec: 0, limit: 20, ratePerSec: 10 }, "openai", now, none);
  assert.deepEqual(none, {});
});
