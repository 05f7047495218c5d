import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { near } from "../../test-support/approx.ts";
import { welchTTest, welchTTestFromSummary } from "./means.ts";

interface Case {
  id: string;
  x: number[];
  y: number[];
  expect: { t: number; df: number; pTwoSided: number; ci95: [number, number] };
  tolerance?: string;
}
const vectors = JSON.parse(
  readFileSync(new URL("../../../reference/stats-vectors.json", import.meta.url), "utf8"),
) as { welchT: Case[] };

// A value published rounded (R prints 4 significant digits) is only known to those digits:
// require the result to round to exactly the printed value.
function matchesPrinted(actual: number, printed: number, label: string): void {
  const digits = printed.toExponential().split("e")[0]!.replace(/[-.]/g, "").length;
  assert.equal(Number(actual.toPrecision(digits)), printed, `${label}: got ${actual}, printed ${printed}`);
}

const rExample = vectors.welchT.find((c) => c.id === "r-t.test-help")!;

test("the vectors file has the Welch case", () => {
  assert.deepEqual(
    vectors.welchT.map((c) => c.id),
    ["r-t.test-help"],
  );
});

test("vector r-t.test-help: Welch t from raw samples (t, df, p, 95% CI)", () => {
  const r = welchTTest(rExample.x, rExample.y);
  near(r.t, rExample.expect.t, 1e-4, "t");
  near(r.df, rExample.expect.df, 1e-4, "df");
  near(r.ci[0], rExample.expect.ci95[0], 1e-4, "ci lower");
  near(r.ci[1], rExample.expect.ci95[1], 1e-4, "ci upper");
  // R prints p-value = 0.1245; the exact value 0.124513 is 1.1e-4 away relatively, so check
  // every printed digit, and the full value against scipy.stats.ttest_ind(equal_var=False).
  matchesPrinted(r.pTwoSided, rExample.expect.pTwoSided, "pTwoSided");
  near(r.pTwoSided, 0.12451349808974545, 1e-9, "pTwoSided vs scipy");
});

test("vector r-t.test-help: the same test from mean/variance and from sum/sum-of-squares summaries", () => {
  // x = 1..10, y = 7..20 and 200, summarised by hand.
  const fromMoments = welchTTestFromSummary(
    { mean: 5.5, variance: 55 / 6, n: 10 },
    { mean: 389 / 15, variance: 35026 / 15, n: 15 },
  );
  const fromSums = welchTTestFromSummary(
    { sum: 55, sumSquares: 385, n: 10 },
    { sum: 389, sumSquares: 42779, n: 15 },
  );
  for (const r of [fromMoments, fromSums]) {
    near(r.t, rExample.expect.t, 1e-4, "t");
    near(r.df, rExample.expect.df, 1e-4, "df");
    near(r.ci[0], rExample.expect.ci95[0], 1e-4, "ci lower");
    near(r.ci[1], rExample.expect.ci95[1], 1e-4, "ci upper");
    matchesPrinted(r.pTwoSided, rExample.expect.pTwoSided, "pTwoSided");
  }
});

test("scipy: 90% interval and one-sided p-values of the R example", () => {
  const r = welchTTest(rExample.x, rExample.y, { alpha: 0.1 });
  // scipy 1.17.1 ttest_ind(equal_var=False).confidence_interval(0.9) and alternative="less"
  near(r.ci[0], -42.455411390389465, 1e-9, "90% ci lower");
  near(r.ci[1], 1.5887447237228045, 1e-9, "90% ci upper");
  near(r.pLess, 0.062256749044872724, 1e-9, "pLess");
  near(r.pGreater, 1 - 0.062256749044872724, 1e-9, "pGreater");
});

test("scipy: ttest_ind_from_stats(10.2, 2.5, 40, 9.1, 3.9, 25, equal_var=False)", () => {
  const r = welchTTestFromSummary(
    { mean: 10.2, variance: 2.5 ** 2, n: 40 },
    { mean: 9.1, variance: 3.9 ** 2, n: 25 },
  );
  near(r.t, 1.2579440889545612, 1e-9, "t");
  near(r.pTwoSided, 0.21641519544625729, 1e-9, "pTwoSided");
});

test("invalid samples are RangeErrors naming the argument", () => {
  assert.throws(() => welchTTest([1], [1, 2, 3]), {
    name: "RangeError",
    message: /welchTTest: x must be an array of at least 2/,
  });
  assert.throws(() => welchTTest([1, 2], [1, Number.NaN]), {
    name: "RangeError",
    message: /welchTTest: y\[1\] must be a finite number/,
  });
  assert.throws(() => welchTTest([3, 3], [3, 3]), { name: "RangeError", message: /both have zero variance/ });
  assert.throws(
    () => welchTTestFromSummary({ mean: 1, variance: -1, n: 5 }, { mean: 1, variance: 1, n: 5 }),
    {
      name: "RangeError",
      message: /welchTTestFromSummary: x\.variance must be >= 0/,
    },
  );
  assert.throws(() => welchTTestFromSummary({ mean: 1, variance: 1, n: 1 }, { mean: 1, variance: 1, n: 5 }), {
    name: "RangeError",
    message: /x\.n must be an integer >= 2/,
  });
});
