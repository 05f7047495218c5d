import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { near } from "../../test-support/approx.ts";
import { mcNemarTest } from "./paired.ts";

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
