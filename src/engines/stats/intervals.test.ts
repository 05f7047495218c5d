import assert from "node:assert/strict";
import { test } from "node:test";
import { within } from "../../test-support/approx.ts";
import { moverInterval, newcombeInterval, wilsonInterval } from "./intervals.ts";

const Z95 = 1.959963984540054;

test("Wilson's score interval: Newcombe (1998a), 81 of 263 gives 0.2553 to 0.3662", () => {
  const w = wilsonInterval(81, 263, Z95);
  within(w.lower, 0.2553, 5e-5, "lower");
  within(w.upper, 0.3662, 5e-5, "upper");
  // Newcombe (1998a) also: 0 of 20 gives 0 to 0.1611; 1 of 29 gives 0.0061 to 0.1718.
  within(wilsonInterval(0, 20, Z95).upper, 0.1611, 5e-5, "0/20 upper");
  assert.equal(wilsonInterval(0, 20, Z95).lower, 0);
  within(wilsonInterval(1, 29, Z95).lower, 0.0061, 5e-5, "1/29 lower");
  within(wilsonInterval(1, 29, Z95).upper, 0.1718, 5e-5, "1/29 upper");
});

test("Newcombe's hybrid score interval for a difference (Newcombe 1998b, method 10, Table II)", () => {
  const cases: [number, number, number, number, number, number][] = [
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.809],
    [5, 56, 0, 29, -0.0381, 0.1926],
  ];
  for (const [x1, n1, x2, n2, lo, hi] of cases) {
    const r = newcombeInterval({ successes: x1, n: n1 }, { successes: x2, n: n2 }, Z95);
    within(r.lower, lo, 5e-5, `${x1}/${n1} - ${x2}/${n2} lower`);
    within(r.upper, hi, 5e-5, `${x1}/${n1} - ${x2}/${n2} upper`);
  }
});

test("MOVER for a difference of differences: symmetric in its terms, and wider than each part", () => {
  const did = moverInterval(
    [
      { coef: 1, successes: 90, n: 100 },
      { coef: -1, successes: 75, n: 100 },
      { coef: -1, successes: 900, n: 1000 },
      { coef: 1, successes: 895, n: 1000 },
    ],
    Z95,
  );
  within(did.estimate, 0.15 - 0.005, 1e-12, "estimate");
  const part = newcombeInterval({ successes: 90, n: 100 }, { successes: 75, n: 100 }, Z95);
  assert.ok(did.lower < part.lower - 0.005 && did.upper > part.upper - 0.005);
  assert.throws(() => wilsonInterval(3, 2, Z95), /wilsonInterval: successes/);
  assert.throws(() => moverInterval([], Z95), /moverInterval: terms/);
});
