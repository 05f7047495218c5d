import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { boundedAxis, niceTicks, pctDigits, rateAxis } from "./axis.ts";

describe("value axes", () => {
  test("an error rate of zero everywhere no longer reaches 400%: the threshold sets the top", () => {
    assert.deepEqual(rateAxis([0, 0, 0], [0.05]), { domain: [0, 0.06], ticks: [0, 0.02, 0.04, 0.06] });
  });

  test("an error rate of zero with no threshold gets a 1% frame", () => {
    assert.deepEqual(rateAxis([0, 0]).domain, [0, 0.01]);
  });

  test("the top is a round number just above the largest value and the threshold", () => {
    const a = rateAxis([0.01, 0.12, 0.3], [0.05]);
    assert.deepEqual(a.domain, [0, 0.4]);
    assert.ok(a.ticks.every((t) => t <= 0.4));
    assert.deepEqual(rateAxis([0.001, 0.004], [0.02]).domain, [0, 0.03]);
  });

  test("a rate axis never passes 100%", () => {
    assert.deepEqual(rateAxis([0.2, 1], [0.05]), { domain: [0, 1], ticks: [0, 0.25, 0.5, 0.75, 1] });
    assert.deepEqual(rateAxis([0.97, 0.99], [], false).domain.at(-1), 1);
    assert.deepEqual(rateAxis([3], [0.05]).domain, [0, 1]); // a bad number does not stretch it
  });

  test("a success rate near 1 keeps its detail: from a round number below the data, up to at most 100%", () => {
    const a = rateAxis([0.91, 0.95, 0.98], [], false);
    assert.deepEqual(a.domain, [0.9, 1]);
    assert.deepEqual(a.ticks, [0.9, 0.92, 0.94, 0.96, 0.98, 1]);
  });

  test("no data: a readable frame at the floor", () => {
    assert.deepEqual(rateAxis([]).domain, [0, 0.01]);
    assert.deepEqual(rateAxis([null, undefined, Number.NaN]).domain, [0, 0.01]);
  });

  test("percentage points in [0, 100]", () => {
    const a = boundedAxis([2, 7.5], { refs: [10], floor: 0, ceiling: 100, zero: true, minSpan: 1 });
    assert.deepEqual(a, { domain: [0, 15], ticks: [0, 5, 10, 15] });
  });

  test("round ticks and the decimals they need", () => {
    assert.deepEqual(niceTicks(-0.03, 0.08, 4), [-0.05, 0, 0.05, 0.1]);
    assert.equal(pctDigits([0, 0.025, 0.05]), 1);
    assert.equal(pctDigits([0, 0.25, 0.5]), 0);
    assert.equal(pctDigits([0, 0.0025]), 2);
  });
});
