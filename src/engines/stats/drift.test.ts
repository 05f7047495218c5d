import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { near } from "../../test-support/approx.ts";
import { categoryCounts, chiSquareDrift, psi, psiFromCounts } from "./drift.ts";

interface Case {
  id: string;
  expected?: number[];
  actual?: number[];
  referenceCounts?: number[];
  currentCounts?: number[];
  emptyBinFill?: number;
  expect: { psi?: number; chiSquare?: number; p?: number };
  tolerance?: string;
}
const vectors = JSON.parse(
  readFileSync(new URL("../../../reference/stats-vectors.json", import.meta.url), "utf8"),
) as { drift: Case[] };

const byId = (id: string): Case => vectors.drift.find((c) => c.id === id)!;
const tol = (c: Case): number => (c.tolerance ? Number.parseFloat(c.tolerance) : 1e-4);

test("the vectors file has the drift cases", () => {
  assert.deepEqual(
    vectors.drift.map((c) => c.id),
    ["psi-shares", "evidently-psi-categorical", "evidently-chi-square"],
  );
});

test("vector psi-shares: PSI from shares", () => {
  const c = byId("psi-shares");
  const r = psi(c.expected!, c.actual!);
  near(r.psi, c.expect.psi!, tol(c), "psi");
  // numpy: sum((a - e) * log(a / e)) = 0.04456085471610198
  near(r.psi, 0.04456085471610198, 1e-12, "psi vs numpy");
  near(
    r.contributions.reduce((s, x) => s + x, 0),
    r.psi,
    1e-15,
    "contributions add up",
  );
  assert.ok(r.contributions.every((x) => x >= 0));
});

test("vector evidently-psi-categorical: the listed values are raw observations, counted per category", () => {
  const c = byId("evidently-psi-categorical");
  // Evidently's test feeds reference = [3, 2, 2] and current = [1, 2, 3] as column values, so
  // the categories 1, 2, 3 have counts (0, 2, 1) and (1, 1, 1), and the empty reference bin
  // takes the fill share 0.0001.
  const counts = categoryCounts(c.referenceCounts!, c.currentCounts!);
  assert.deepEqual(counts, { categories: [3, 2, 1], referenceCounts: [1, 2, 0], currentCounts: [1, 1, 1] });
  const r = psiFromCounts(counts.referenceCounts, counts.currentCounts, { emptyBinFill: c.emptyBinFill! });
  near(r.psi, c.expect.psi!, tol(c), "psi");
  near(r.psi, 2.9341472484810085, 1e-12, "psi vs numpy");
  assert.equal(r.expectedShares[2], 1e-4);
  // Read as counts per bin, the same numbers are a small shift (numpy: 0.37461717019815916),
  // not the 2.93 Evidently reports: the field names in the vector are misleading.
  const asCounts = psiFromCounts(c.referenceCounts!, c.currentCounts!, { emptyBinFill: c.emptyBinFill! });
  near(asCounts.psi, 0.37461717019815916, 1e-12, "psi of the values read as counts");
});

test("vector evidently-chi-square: goodness of fit of current counts to reference shares", () => {
  const c = byId("evidently-chi-square");
  const r = chiSquareDrift(c.referenceCounts!, c.currentCounts!);
  near(r.chiSquare, c.expect.chiSquare!, tol(c), "chiSquare");
  near(r.p, c.expect.p!, tol(c), "p");
  assert.equal(r.df, 5);
  // Evidently's second test: a reference twice as large gives the same answer.
  const doubled = chiSquareDrift(
    c.referenceCounts!.map((x) => 2 * x),
    c.currentCounts!,
  );
  near(doubled.p, c.expect.p!, tol(c), "p with doubled reference");
});

test("numpy: empty bins on both sides take the fill share, without renormalising", () => {
  // reference (10, 0, 5), current (3, 4, 0) -> 7.750702581068541
  const r = psiFromCounts([10, 0, 5], [3, 4, 0]);
  near(r.psi, 7.750702581068541, 1e-12, "psi");
  assert.equal(psi([0.5, 0.5], [0.5, 0.5]).psi, 0);
});

test("invalid input is a RangeError naming the argument", () => {
  assert.throws(() => psi([0.5, 0.5], [0.2, 0.3, 0.5]), {
    name: "RangeError",
    message: /psi: expectedShares and actualShares must have the same length/,
  });
  assert.throws(() => psi([0.5, 0.6], [0.5, 0.5]), {
    name: "RangeError",
    message: /psi: expectedShares must sum to 1/,
  });
  assert.throws(() => psi([1.5, -0.5], [0.5, 0.5]), {
    name: "RangeError",
    message: /expectedShares\[0\] must be a probability/,
  });
  assert.throws(() => psiFromCounts([0, 0], [1, 2]), {
    name: "RangeError",
    message: /referenceCounts must not be all zero/,
  });
  assert.throws(() => psiFromCounts([1, 2], [1, 2], { emptyBinFill: 0 }), {
    name: "RangeError",
    message: /emptyBinFill/,
  });
  assert.throws(() => chiSquareDrift([5, 0], [3, 3]), {
    name: "RangeError",
    message: /chiSquareDrift: referenceCounts\[1\] must be > 0/,
  });
});
