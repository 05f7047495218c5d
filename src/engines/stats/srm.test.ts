import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { near } from "../../test-support/approx.ts";
import { chiSquareGoodnessOfFit, sampleRatioMismatch } from "./srm.ts";

interface Case {
  id: string;
  observed: number[];
  weights: number[];
  expect: { chiSquare: number; p: number; df?: number };
  tolerance?: string;
}
const vectors = JSON.parse(
  readFileSync(new URL("../../../reference/stats-vectors.json", import.meta.url), "utf8"),
) as { srmChiSquare: Case[] };

// A value published rounded is only known to its printed digits: require the result to
// round to exactly the printed value.
function matchesPrinted(actual: number, printed: number, label: string): void {
  const digits = printed.toExponential().split("e")[0]!.replace(/[-.]/g, "").length;
  assert.equal(Number(actual.toPrecision(digits)), printed, `${label}: got ${actual}, printed ${printed}`);
}

const byId = (id: string): Case => vectors.srmChiSquare.find((c) => c.id === id)!;

test("the vectors file has the SRM cases", () => {
  assert.deepEqual(
    vectors.srmChiSquare.map((c) => c.id),
    ["wikipedia-srm", "statsig-3-arms"],
  );
});

test("vector wikipedia-srm: 600/400 on a 50/50 split", () => {
  const c = byId("wikipedia-srm");
  const r = sampleRatioMismatch(c.observed, c.weights);
  near(r.chiSquare, c.expect.chiSquare, 1e-4, "chiSquare");
  assert.equal(r.df, 1);
  // Wikipedia prints 2.54e-10 (3 digits; the exact value is 2.5396e-10): check every printed
  // digit, and the full value against scipy.stats.chisquare([600, 400]).
  matchesPrinted(r.p, c.expect.p, "p");
  near(r.p, 2.5396285894708634e-10, 1e-9, "p vs scipy");
  assert.equal(r.mismatch, true);
  assert.deepEqual(r.expected, [500, 500]);
});

test("vector statsig-3-arms: three equal arms, p at 3e-22 to relative precision", () => {
  const c = byId("statsig-3-arms");
  const rel = Number.parseFloat(c.tolerance ?? "1e-4");
  assert.equal(rel, 1e-2);
  const r = sampleRatioMismatch(c.observed, c.weights);
  near(r.chiSquare, c.expect.chiSquare, rel, "chiSquare");
  assert.equal(r.df, c.expect.df);
  near(r.p, c.expect.p, rel, "p");
  // scipy.stats.chisquare on the same counts: 99.04043212328223, 3.116329865438465e-22
  near(r.chiSquare, 99.04043212328223, 1e-12, "chiSquare vs scipy");
  near(r.p, 3.116329865438465e-22, 1e-9, "p vs scipy");
});

test("scipy: weights on any scale, unequal split", () => {
  // scipy.stats.chisquare([50, 30, 20], [40, 40, 20]) -> 5.0, 0.0820849986238988
  const r = chiSquareGoodnessOfFit([50, 30, 20], [2, 2, 1]);
  near(r.chiSquare, 5, 1e-12, "chiSquare");
  near(r.p, 0.0820849986238988, 1e-9, "p");
  assert.deepEqual(r.expected, [40, 40, 20]);
});

test("a split that matches its weights is no mismatch; the threshold is configurable", () => {
  const even = sampleRatioMismatch([100, 100, 100], [1, 1, 1]);
  assert.equal(even.chiSquare, 0);
  assert.equal(even.p, 1);
  assert.equal(even.mismatch, false);
  const c = byId("wikipedia-srm");
  assert.equal(sampleRatioMismatch([520, 480], c.weights).mismatch, false);
  assert.equal(sampleRatioMismatch([520, 480], c.weights, { threshold: 0.25 }).mismatch, true);
});

test("invalid input is a RangeError naming the argument", () => {
  assert.throws(() => sampleRatioMismatch([10, 20], [1, 1, 1]), {
    name: "RangeError",
    message: /sampleRatioMismatch: observed and weights must have the same length/,
  });
  assert.throws(() => sampleRatioMismatch([10, -1], [1, 1]), {
    name: "RangeError",
    message: /observed\[1\] must be >= 0/,
  });
  assert.throws(() => sampleRatioMismatch([10, 5], [1, 0]), {
    name: "RangeError",
    message: /weights\[1\] must be > 0/,
  });
  assert.throws(() => sampleRatioMismatch([0, 0], [1, 1]), {
    name: "RangeError",
    message: /observed must not be all zero/,
  });
  assert.throws(() => chiSquareGoodnessOfFit([5], [1]), {
    name: "RangeError",
    message: /observed must be an array of at least 2/,
  });
});
