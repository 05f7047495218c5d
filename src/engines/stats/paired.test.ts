import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { near } from "../../test-support/approx.ts";
import { mcNemarTest, pairedTTest } from "./paired.ts";

interface Case {
  id: string;
  onlyAcorrect: number;
  onlyBcorrect: number;
  expect: {
    exactPTwoSided: number;
    chiSquareContinuityCorrected: number;
    pContinuityCorrected: number;
    chiSquare: number;
    p: number;
  };
  tolerance?: string;
}
const vectors = JSON.parse(
  readFileSync(new URL("../../../reference/stats-vectors.json", import.meta.url), "utf8"),
) as { mcNemar: Case[] };

test("the vectors file has the McNemar case", () => {
  assert.deepEqual(
    vectors.mcNemar.map((c) => c.id),
    ["paired-flips-15-5"],
  );
});

for (const c of vectors.mcNemar) {
  test(`vector ${c.id}: exact, chi-square and continuity-corrected p`, () => {
    const rel = c.tolerance ? Number.parseFloat(c.tolerance) : 1e-4;
    const r = mcNemarTest({ onlyA: c.onlyAcorrect, onlyB: c.onlyBcorrect });
    near(r.exactPTwoSided, c.expect.exactPTwoSided, rel, "exactPTwoSided");
    near(r.chiSquare, c.expect.chiSquare, rel, "chiSquare");
    near(r.p, c.expect.p, rel, "p");
    near(
      r.chiSquareContinuityCorrected,
      c.expect.chiSquareContinuityCorrected,
      rel,
      "chiSquareContinuityCorrected",
    );
    near(r.pContinuityCorrected, c.expect.pContinuityCorrected, rel, "pContinuityCorrected");
    assert.equal(r.discordant, c.onlyAcorrect + c.onlyBcorrect);
    // The test is symmetric in which version is called A.
    const swapped = mcNemarTest({ onlyA: c.onlyBcorrect, onlyB: c.onlyAcorrect });
    assert.deepEqual(swapped, r);
  });
}

test("scipy: binomtest(40, 100) and chi2.sf for 40 vs 60 flips; binomtest(0, 7) for 0 vs 7", () => {
  const r = mcNemarTest({ onlyA: 40, onlyB: 60 });
  near(r.exactPTwoSided, 0.05688793364098089, 1e-9, "exact");
  near(r.p, 0.04550026389635857, 1e-9, "chi-square p");
  near(r.pContinuityCorrected, 0.05743311963200335, 1e-9, "corrected p");
  near(mcNemarTest({ onlyA: 0, onlyB: 7 }).exactPTwoSided, 0.015625, 1e-12, "0 vs 7");
});

test("balanced or absent flips are no evidence: every p is 1", () => {
  const even = mcNemarTest({ onlyA: 9, onlyB: 9 });
  assert.equal(even.exactPTwoSided, 1);
  assert.equal(even.chiSquareContinuityCorrected, 0);
  assert.equal(even.pContinuityCorrected, 1);
  assert.deepEqual(mcNemarTest({ onlyA: 0, onlyB: 0 }), {
    discordant: 0,
    exactPTwoSided: 1,
    chiSquare: 0,
    p: 1,
    chiSquareContinuityCorrected: 0,
    pContinuityCorrected: 1,
  });
});

test("invalid counts are RangeErrors naming the argument", () => {
  assert.throws(() => mcNemarTest({ onlyA: -1, onlyB: 3 }), {
    name: "RangeError",
    message: /mcNemarTest: onlyA must be a non-negative integer/,
  });
  assert.throws(() => mcNemarTest({ onlyA: 1, onlyB: 2.5 }), { name: "RangeError", message: /onlyB/ });
});

// Student's sleep data (Biometrika, 1908), as R ships it (datasets::sleep): extra hours of sleep
// under two drugs, the same ten patients. R's `t.test(extra ~ group, data = sleep, paired = TRUE)`
// prints t = -4.0621, df = 9, p-value = 0.002833, 95 percent CI -2.4598858 -0.7001142; scipy
// 1.17 `ttest_rel` gives t = -4.062127683382037, p = 0.002832890197384273.
const SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

test("paired t: Student's sleep data as R's t.test(paired = TRUE) and scipy's ttest_rel print it", () => {
  const r = pairedTTest(SLEEP_1, SLEEP_2);
  near(r.t, -4.062127683382037, 1e-9, "t (scipy)");
  near(r.pTwoSided, 0.002832890197384273, 1e-7, "p (scipy)");
  near(r.t, -4.0621, 1e-4, "t (R)");
  near(r.pTwoSided, 0.002833, 1e-3, "p (R)");
  assert.equal(r.df, 9);
  assert.equal(r.n, 10);
  near(r.meanDifference, -1.58, 1e-12, "mean difference");
  near(r.ci[0], -2.459885763276983, 1e-7, "CI low");
  near(r.ci[1], -0.7001142367230175, 1e-7, "CI high");
  // Swapping the arms flips the sign, not the p.
  const s = pairedTTest(SLEEP_2, SLEEP_1);
  near(s.t, 4.062127683382037, 1e-9, "swapped t");
  assert.equal(s.pTwoSided, r.pTwoSided);
});

test("paired t: scipy ttest_rel on eight scores (not significant)", () => {
  const r = pairedTTest(
    [0.8, 0.6, 0.9, 0.7, 0.5, 0.95, 0.4, 0.85],
    [0.7, 0.65, 0.6, 0.72, 0.45, 0.9, 0.42, 0.6],
  );
  near(r.t, 1.8099424593227553, 1e-9, "t");
  near(r.pTwoSided, 0.11322435921021315, 1e-7, "p");
  near(r.ci[0], -0.025283261148202646, 1e-6, "CI low");
  near(r.ci[1], 0.19028326114820265, 1e-7, "CI high");
});

test("paired t: no spread in the differences", () => {
  const same = pairedTTest([1, 2, 3], [1, 2, 3]);
  assert.equal(same.t, 0);
  assert.equal(same.pTwoSided, 1);
  const shifted = pairedTTest([1, 2, 3], [0, 1, 2]);
  assert.equal(shifted.t, Number.POSITIVE_INFINITY);
  assert.equal(shifted.pTwoSided, 0);
  assert.deepEqual(shifted.ci, [1, 1]);
});

test("paired t: invalid input is a RangeError naming the argument", () => {
  assert.throws(() => pairedTTest([1], [2]), {
    name: "RangeError",
    message: /pairedTTest: x must be an array of at least 2/,
  });
  assert.throws(() => pairedTTest([1, 2], [2]), {
    name: "RangeError",
    message: /x and y must have the same length/,
  });
  assert.throws(() => pairedTTest([1, Number.NaN], [2, 3]), {
    name: "RangeError",
    message: /x\[1\] must be a finite number/,
  });
  assert.throws(() => pairedTTest([1, 2], [2, 3], { confidence: 1 }), {
    name: "RangeError",
    message: /confidence/,
  });
});
