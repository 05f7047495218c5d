import assert from "node:assert/strict";
import { test } from "node:test";
import { closeTo, near, nearAll, within } from "./approx.ts";

test("near: a relative tolerance; an expected 0 is met exactly", () => {
  near(100.5, 100, 0.01, "inside");
  assert.throws(
    () => near(102, 100, 0.01, "outside"),
    /outside: got 102, expected 100 \(relative tolerance 0\.01\)/,
  );
  near(0, 0, 0.01, "zero");
  assert.throws(() => near(1e-12, 0, 0.01, "not zero"));
});

test("within: an absolute tolerance", () => {
  within(0.0004, 0, 1e-3, "inside");
  assert.throws(() => within(0.002, 0, 1e-3, "outside"), /outside: got 0\.002, expected 0 \(±0\.001\)/);
});

test("closeTo: absolute below 1, relative above", () => {
  closeTo(0.00005, 0, 1e-4, "small");
  assert.throws(() => closeTo(0.0002, 0, 1e-4, "small"));
  closeTo(1000.05, 1000, 1e-4, "large");
  assert.throws(() => closeTo(1000.2, 1000, 1e-4, "large"));
});

test("a value that is not a number never passes, even against 0", () => {
  for (const bad of [null, undefined, Number.NaN, "0"])
    for (const check of [near, within, closeTo])
      assert.throws(() => check(bad, 0, 1, "v"), /v: got .*, expected 0/);
});

test("nearAll: lengths first, then each element, named by its index", () => {
  nearAll([1, 2.0001], [1, 2], 1e-3, "xs");
  assert.throws(() => nearAll([1], [1, 2], 1e-3, "xs"), /xs: length/);
  assert.throws(() => nearAll([1, 3], [1, 2], 1e-3, "xs"), /xs\[1\]: got 3, expected 2/);
});
