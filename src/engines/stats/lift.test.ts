import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { near } from "../../test-support/approx.ts";
import { frequentistLift } from "./lift.ts";
import type { ArmSummary } from "./summary.ts";

interface Case {
  id: string;
  control: ArmSummary;
  treatment: ArmSummary;
  relative: boolean;
  expect: { estimate: number; se: number; ci95: [number, number]; pTwoSided: number; df?: number };
  tolerance?: string;
}
const vectors = JSON.parse(
  readFileSync(new URL("../../../reference/stats-vectors.json", import.meta.url), "utf8"),
) as { growthbookFrequentist: Case[] };

test("the vectors file has the GrowthBook cases", () => {
  assert.deepEqual(
    vectors.growthbookFrequentist.map((c) => c.id),
    ["gbstats-absolute", "gbstats-relative", "gbstats-relative-proportions"],
  );
});

for (const c of vectors.growthbookFrequentist) {
  test(`vector ${c.id}: ${c.relative ? "relative" : "absolute"} lift, se, 95% CI, p${c.expect.df ? ", df" : ""}`, () => {
    const rel = c.tolerance ? Number.parseFloat(c.tolerance) : 1e-4;
    const r = frequentistLift(c.control, c.treatment, { relative: c.relative });
    assert.equal(r.relative, c.relative);
    near(r.estimate, c.expect.estimate, rel, "estimate");
    near(r.se, c.expect.se, rel, "se");
    near(r.ci[0], c.expect.ci95[0], rel, "ci lower");
    near(r.ci[1], c.expect.ci95[1], rel, "ci upper");
    near(r.pTwoSided, c.expect.pTwoSided, rel, "pTwoSided");
    if (c.expect.df !== undefined) near(r.df, c.expect.df, rel, "df");
  });
}

test("gbstats-absolute data given as mean/variance gives the same answer as sum/sumSquares", () => {
  const c = vectors.growthbookFrequentist.find((x) => x.id === "gbstats-absolute")!;
  // sum 1396.87 over 3407 -> mean 0.41; (sumSquares - sum^2/n)/(n - 1) = 15.21
  const fromMoments = frequentistLift(
    { mean: 0.41, variance: 15.21, n: 3407 },
    { mean: 0.7, variance: 38.44, n: 3461 },
    { relative: false },
  );
  near(fromMoments.estimate, c.expect.estimate, 1e-4, "estimate");
  near(fromMoments.se, c.expect.se, 1e-4, "se");
  near(fromMoments.pTwoSided, c.expect.pTwoSided, 1e-4, "pTwoSided");
});

test("relative lift is the default; with equal means its se is the absolute se over the control mean", () => {
  const control = { mean: 2, variance: 1, n: 50 };
  const treatment = { mean: 2, variance: 3, n: 40 };
  const relative = frequentistLift(control, treatment);
  const absolute = frequentistLift(control, treatment, { relative: false });
  assert.equal(relative.relative, true);
  // Delta method: vT/(nT mC^2) + vC mT^2/(nC mC^4) = (vT/nT + vC/nC)/mC^2 when mT = mC.
  near(relative.se, absolute.se / 2, 1e-12, "se");
  assert.equal(relative.df, absolute.df);
  assert.equal(relative.estimate, 0);
  assert.equal(relative.pTwoSided, 1);
});

test("invalid arms are RangeErrors naming the argument", () => {
  assert.throws(() => frequentistLift({ successes: 0, n: 10 }, { successes: 3, n: 10 }), {
    name: "RangeError",
    message: /frequentistLift: control has mean 0/,
  });
  assert.throws(() => frequentistLift({ successes: 3, n: 10 }, { successes: 11, n: 10 }), {
    name: "RangeError",
    message: /frequentistLift: treatment\.successes must not exceed treatment\.n/,
  });
  assert.throws(() => frequentistLift({ sum: 1, sumSquares: 1, n: 1 }, { sum: 1, sumSquares: 1, n: 5 }), {
    name: "RangeError",
    message: /control\.n must be an integer >= 2/,
  });
  assert.throws(() => frequentistLift({ n: 5 } as unknown as ArmSummary, { successes: 1, n: 5 }), {
    name: "RangeError",
    message: /frequentistLift: control must have/,
  });
});
