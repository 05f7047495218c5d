import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { manualClock } from "../../../lib/clock.ts";
import { createTokenBuckets } from "./token-bucket.ts";

describe("token buckets", () => {
  test("burst, then refill at the rate, with Retry-After rounded up to whole seconds", () => {
    const clock = manualClock();
    const b = createTokenBuckets({ ratePerSec: 2, burst: 3, clock });
    // resetMs: until full again; one token at 2/s is 500 ms.
    assert.deepEqual(b.take("tok_a"), {
      ok: true,
      retryAfterSec: 0,
      remaining: 2,
      resetMs: 500,
      limit: 3,
      ratePerSec: 2,
    });
    assert.equal(b.take("tok_a").remaining, 1);
    assert.equal(b.take("tok_a").remaining, 0);
    // Empty: one token takes 0.5s at 2/s, announced as 1s.
    assert.deepEqual(b.take("tok_a"), {
      ok: false,
      retryAfterSec: 1,
      remaining: 0,
      resetMs: 1500,
      limit: 3,
      ratePerSec: 2,
    });
    clock.advance(499);
    assert.equal(b.take("tok_a").ok, false, "0.998 tokens are not one");
    clock.advance(1);
    assert.equal(b.take("tok_a").ok, true, "exactly one token after 500ms");
    assert.equal(b.take("tok_b").remaining, 2, "keys are independent");
    clock.advance(60_000);
    const refilled = b.take("tok_a");
    assert.equal(refilled.remaining, 2, "refill stops at burst");
    assert.equal(refilled.resetMs, 500);
  });

  test("slow rates: Retry-After is the ceiling of the exact wait", () => {
    const clock = manualClock();
    const b = createTokenBuckets({ ratePerSec: 1 / 3, burst: 1, clock });
    assert.equal(b.take("k").ok, true);
    assert.equal(b.take("k").retryAfterSec, 3);
    clock.advance(1_000);
    assert.equal(b.take("k").retryAfterSec, 2, "2s left exactly");
    clock.advance(1);
    assert.equal(b.take("k").retryAfterSec, 2, "1.999s left rounds up to 2");
    clock.advance(1_999);
    assert.equal(b.take("k").ok, true, "3s at 1/3 per second is one token despite float error");
  });

  test("cost above 1, and a cost the bucket can never hold", () => {
    const clock = manualClock();
    const b = createTokenBuckets({ ratePerSec: 10, burst: 20, clock });
    assert.equal(b.take("k", 15).remaining, 5);
    const r = b.take("k", 12);
    assert.deepEqual(
      r,
      { ok: false, retryAfterSec: 1, remaining: 5, resetMs: 1500, limit: 20, ratePerSec: 10 },
      "7 tokens at 10/s = 0.7s → 1",
    );
    assert.equal(b.take("k", 5).ok, true, "a refused take costs nothing");
    assert.throws(() => b.take("k", 21), RangeError);
    assert.throws(() => b.take("k", 0), RangeError);
  });

  test("per-token overrides", () => {
    const clock = manualClock();
    const b = createTokenBuckets({
      ratePerSec: 1,
      burst: 1,
      clock,
      overrides: (key) => (key === "tok_vip" ? { ratePerSec: 100, burst: 50 } : undefined),
    });
    assert.equal(b.take("tok_vip").remaining, 49);
    assert.equal(b.take("tok_plain").remaining, 0);
    assert.equal(b.take("tok_plain").retryAfterSec, 1);
    assert.throws(
      () =>
        createTokenBuckets({
          ratePerSec: 1,
          burst: 1,
          clock,
          overrides: () => ({ ratePerSec: 0, burst: 1 }),
        }).take("x"),
      /ratePerSec must be > 0/,
    );
    assert.throws(() => createTokenBuckets({ ratePerSec: 1, burst: 0, clock }), /burst must be >= 1/);
  });

  test("memory is bounded: sweep drops refilled buckets, the LRU goes past maxKeys", () => {
    const clock = manualClock();
    const b = createTokenBuckets({ ratePerSec: 1, burst: 2, clock, maxKeys: 3 });
    b.take("a", 2);
    b.take("b", 2);
    b.take("c", 1);
    assert.equal(b.size, 3);
    clock.advance(1_000);
    assert.equal(b.sweep(), 1, "only c is full again after 1s");
    assert.equal(b.size, 2);
    b.take("c");
    b.take("a"); // a is now the most recently used; b is the LRU
    b.take("d");
    assert.equal(b.size, 3);
    assert.equal(b.take("a").ok, false, "a kept its (empty) bucket");
    // b was evicted when d arrived and now starts over, full.
    b.take("e"); // evicts c
    assert.equal(b.take("b").remaining, 1);
    assert.equal(b.size, 3);
  });
});
