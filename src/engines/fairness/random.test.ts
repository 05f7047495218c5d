import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRandom, xoshiro128StarStar } from "./random.ts";

test("xoshiro128**: first outputs from state (1, 2, 3, 4), traced by hand through Blackman & Vigna's reference algorithm", () => {
  // 1st: rotl(2·5, 7)·9 = 1280·9. State then (7, 0, 1026, 12288) → 2nd: rotl(0, 7)·9 = 0.
  // State then (12295, 1029, 1029, 25165824) → 3rd: rotl(1029·5, 7)·9 = 658560·9.
  const next = xoshiro128StarStar([1, 2, 3, 4]);
  assert.deepEqual([next(), next(), next()], [11520, 0, 5927040]);
});

test("xoshiro128** refuses the all-zero state (it would only ever return 0)", () => {
  assert.throws(() => xoshiro128StarStar([0, 0, 0, 0]), RangeError);
});

test("seededRandom: same seed, same sequence; another seed, another sequence", () => {
  const draw = (seed: number) => {
    const r = seededRandom(seed);
    return Array.from({ length: 5 }, () => r());
  };
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
  assert.notDeepEqual(draw(0), draw(1));
});

test("seededRandom: floats in [0, 1) with mean ≈ 1/2 and variance ≈ 1/12", () => {
  const r = seededRandom(7);
  const n = 100_000;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const x = r();
    assert.ok(x >= 0 && x < 1, `out of range: ${x}`);
    sum += x;
    sq += x * x;
  }
  const mean = sum / n;
  const variance = sq / n - mean * mean;
  // Standard error of the mean is 1/sqrt(12n) ≈ 0.0009: 5 of them.
  assert.ok(Math.abs(mean - 0.5) < 0.0046, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1 / 12) < 0.002, `variance ${variance}`);
});

test("seededRandom: a non-integer seed is a RangeError", () => {
  assert.throws(
    () => seededRandom(1.5),
    (e) => e instanceof RangeError && /seed/.test(e.message),
  );
});
