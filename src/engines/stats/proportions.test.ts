import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { near } from "../../test-support/approx.ts";
import { twoProportionZTest } from "./proportions.ts";

interface Case {
  id: string;
  a: { successes: number; n: number };
  b: { successes: number; n: number };
  pooled: boolean;
  expect: { z: number; pTwoSided: number };
  tolerance?: string;
}
const vectors = JSON.parse(
  readFileSync(new URL("../../../reference/stats-vectors.json", import.meta.url), "utf8"),
) as { twoProportionZ: Case[] };

test("the vectors file has the two-proportion cases", () => {
  assert.deepEqual(
    vectors.twoProportionZ.map((c) => c.id),
    ["statsmodels-gh2969", "statsmodels-gh2969-unpooled"],
  );
});

for (const c of vectors.twoProportionZ) {
  test(`vector ${c.id}: z and two-sided p (${c.pooled ? "pooled" : "unpooled"})`, () => {
    const rel = c.tolerance ? Number.parseFloat(c.tolerance) : 1e-4;
    const r = twoProportionZTest(c.a, c.b, { pooled: c.pooled });
    near(r.z, c.expect.z, rel, `${c.id} z`);
    near(r.pTwoSided, c.expect.pTwoSided, rel, `${c.id} pTwoSided`);
  });
}

test("pooled and unpooled differ, and the interval always uses the unpooled standard error", () => {
  const a = { successes: 5, n: 83 };
  const b = { successes: 12, n: 99 };
  const pooled = twoProportionZTest(a, b);
  const unpooled = twoProportionZTest(a, b, { pooled: false });
  assert.notEqual(pooled.se, unpooled.se);
  assert.deepEqual(pooled.ci, unpooled.ci);
  // scipy 1.17.1: pA - pB -/+ norm.ppf(0.975) * sqrt(pA qA/nA + pB qB/nB)
  near(unpooled.ci[0], -0.1431502097879433, 1e-9, "ci lower");
  near(unpooled.ci[1], 0.02120789507454425, 1e-9, "ci upper");
});

test("one-sided p-values follow the sign of pA - pB and add up to 1", () => {
  const r = twoProportionZTest({ successes: 5, n: 83 }, { successes: 12, n: 99 });
  assert.ok(r.pLess < 0.5 && r.pGreater > 0.5);
  near(r.pLess + r.pGreater, 1, 1e-12, "pLess + pGreater");
  near(r.pTwoSided, 2 * r.pLess, 1e-12, "pTwoSided = 2 pLess");
});

test("zero standard error: equal rates give z = 0 and p = 1, different rates give p = 0", () => {
  const none = twoProportionZTest({ successes: 0, n: 500 }, { successes: 0, n: 800 });
  assert.equal(none.z, 0);
  assert.equal(none.pTwoSided, 1);
  const opposite = twoProportionZTest({ successes: 0, n: 10 }, { successes: 10, n: 10 }, { pooled: false });
  assert.equal(opposite.z, Number.NEGATIVE_INFINITY);
  assert.equal(opposite.pTwoSided, 0);
});

test("invalid counts are RangeErrors naming the argument", () => {
  assert.throws(() => twoProportionZTest({ successes: 12, n: 10 }, { successes: 1, n: 10 }), {
    name: "RangeError",
    message: /twoProportionZTest: a\.successes must not exceed a\.n/,
  });
  assert.throws(() => twoProportionZTest({ successes: 1, n: 10 }, { successes: 0, n: 0 }), {
    name: "RangeError",
    message: /twoProportionZTest: b\.n must be an integer >= 1/,
  });
  assert.throws(() => twoProportionZTest({ successes: -1, n: 10 }, { successes: 0, n: 5 }), {
    name: "RangeError",
    message: /a\.successes must be a non-negative integer/,
  });
  assert.throws(() => twoProportionZTest({ successes: 1, n: 10 }, { successes: 0, n: 5 }, { alpha: 1 }), {
    name: "RangeError",
    message: /options\.alpha/,
  });
});
