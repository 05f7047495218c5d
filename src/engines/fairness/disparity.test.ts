import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { closeTo } from "../../test-support/approx.ts";
import {
  demographicParityDifference,
  demographicParityRatio,
  equalizedOddsDifference,
  equalizedOddsRatio,
  equalOpportunityDifference,
  equalOpportunityRatio,
  fairnessReport,
} from "./disparity.ts";

interface FairnessVector {
  id: string;
  yTrue: number[];
  yPred: number[];
  group: string[];
  expect: {
    demographicParityDifference: number;
    demographicParityRatio: number;
    equalizedOddsDifference: number;
    equalizedOddsRatio: number;
    byGroup: Record<string, { n: number; selectionRate: number; tpr: number; fpr: number }>;
    overall: { selectionRate: number; tpr: number; fpr: number };
    toOverall: { selectionRateDifference: number; selectionRateRatio: number };
  };
}
const vectors = JSON.parse(
  readFileSync(new URL("../../../reference/stats-vectors.json", import.meta.url), "utf8"),
) as { fairness: FairnessVector[] };
const vector = (id: string) => {
  const v = vectors.fairness.find((c) => c.id === id);
  assert.ok(v, `vector ${id} is missing from stats-vectors.json`);
  return v;
};

/** The vectors' tolerance: 1e-4 relative (absolute around zero). */
/** The reference file's tolerance: 1e-4, absolute below 1 and relative above. */
const close = (actual: unknown, expected: number, what: string) => closeTo(actual, expected, 1e-4, what);

const FL = "fairlearn-docs-example";

test(`${FL}: per-group counts and rates`, () => {
  const v = vector(FL);
  const r = fairnessReport(v.yTrue, v.yPred, { sensitiveFeatures: v.group });
  assert.deepEqual(
    r.groups.map((g) => g.key),
    Object.keys(v.expect.byGroup).sort(),
  );
  for (const g of r.groups) {
    const e = v.expect.byGroup[g.key]!;
    assert.equal(g.n, e.n, `n of ${g.key}`);
    assert.equal(g.status, "ok");
    close(g.selectionRate, e.selectionRate, `selection rate of ${g.key}`);
    close(g.truePositiveRate, e.tpr, `TPR of ${g.key}`);
    close(g.falsePositiveRate, e.fpr, `FPR of ${g.key}`);
  }
  // Counts by hand from the vector: a = rows 2, 8, 9, 11.
  assert.deepEqual(r.groups[0]!.counts, { tp: 1, fp: 2, tn: 0, fn: 1 });
  close(r.groups[0]!.successRate, 0.25, "accuracy of a");
});

test(`${FL}: overall rates`, () => {
  const v = vector(FL);
  const r = fairnessReport(v.yTrue, v.yPred, { sensitiveFeatures: v.group });
  assert.equal(r.overall.n, 18);
  close(r.overall.selectionRate, v.expect.overall.selectionRate, "overall selection rate");
  close(r.overall.truePositiveRate, v.expect.overall.tpr, "overall TPR");
  close(r.overall.falsePositiveRate, v.expect.overall.fpr, "overall FPR");
});

test(`${FL}: demographic parity and equalized odds, between groups`, () => {
  const v = vector(FL);
  const opts = { sensitiveFeatures: v.group };
  const r = fairnessReport(v.yTrue, v.yPred, opts);
  close(r.demographicParityDifference, v.expect.demographicParityDifference, "DP difference");
  close(r.demographicParityRatio, v.expect.demographicParityRatio, "DP ratio");
  close(r.equalizedOddsDifference, v.expect.equalizedOddsDifference, "EO difference");
  close(r.equalizedOddsRatio, v.expect.equalizedOddsRatio, "EO ratio");
  // The scalar functions are the same numbers, as Fairlearn's functions are MetricFrame's.
  close(
    demographicParityDifference(v.yTrue, v.yPred, opts),
    v.expect.demographicParityDifference,
    "DP diff fn",
  );
  close(demographicParityRatio(v.yTrue, v.yPred, opts), v.expect.demographicParityRatio, "DP ratio fn");
  close(equalizedOddsDifference(v.yTrue, v.yPred, opts), v.expect.equalizedOddsDifference, "EO diff fn");
  close(equalizedOddsRatio(v.yTrue, v.yPred, opts), v.expect.equalizedOddsRatio, "EO ratio fn");
  assert.deepEqual(r.disparities.selectionRate.max, { group: "a", value: 0.75 });
  assert.deepEqual(r.disparities.selectionRate.min, { group: "b", value: 0.5 });
});

test(`${FL}: demographic parity to overall`, () => {
  const v = vector(FL);
  const opts = { sensitiveFeatures: v.group, method: "to_overall" as const };
  close(
    demographicParityDifference(v.yTrue, v.yPred, opts),
    v.expect.toOverall.selectionRateDifference,
    "diff",
  );
  close(demographicParityRatio(v.yTrue, v.yPred, opts), v.expect.toOverall.selectionRateRatio, "ratio");
});

test(`${FL} (hand-computed): equal opportunity and equalized odds with agg "mean"`, () => {
  const v = vector(FL);
  const opts = { sensitiveFeatures: v.group };
  // TPR: a 0.5, b 0.6, c 0.4 → difference 0.2, ratio 0.4/0.6.
  close(equalOpportunityDifference(v.yTrue, v.yPred, opts), 0.2, "EOpp difference");
  close(equalOpportunityRatio(v.yTrue, v.yPred, opts), 2 / 3, "EOpp ratio");
  // FPR: a 1, b 0, c 2/3 → difference 1, ratio 0; mean with TPR: (0.2 + 1)/2 and (2/3 + 0)/2.
  const mean = fairnessReport(v.yTrue, v.yPred, { ...opts, agg: "mean" });
  close(mean.equalizedOddsDifference, 0.6, "EO difference, mean");
  close(mean.equalizedOddsRatio, 1 / 3, "EO ratio, mean");
});

test(`${FL} + minGroupSize 5: group a (n=4) is insufficient, kept with its counts, left out of the disparities`, () => {
  const v = vector(FL);
  const r = fairnessReport(v.yTrue, v.yPred, { sensitiveFeatures: v.group, minGroupSize: 5 });
  const a = r.groups.find((g) => g.key === "a")!;
  assert.equal(a.status, "insufficient");
  assert.equal(a.n, 4);
  assert.deepEqual(a.counts, { tp: 1, fp: 2, tn: 0, fn: 1 });
  assert.equal(a.selectionRate, null);
  assert.deepEqual(r.excluded, [{ key: "a", n: 4, reason: "fewer than 5 rows (minGroupSize)" }]);
  assert.deepEqual(r.disparities.selectionRate.compared, ["b", "c"]);
  // b and c both select 0.5; TPR 0.6 vs 0.4; FPR 0 vs 2/3.
  close(r.demographicParityDifference, 0, "DP difference without a");
  close(r.demographicParityRatio, 1, "DP ratio without a");
  close(r.equalizedOddsDifference, 2 / 3, "EO difference without a");
  // Overall still covers every row, as Fairlearn's `overall`.
  assert.equal(r.overall.n, 18);
});

test("hand-computed: fewer than two comparable groups gives null, not a reassuring 0", () => {
  const r = fairnessReport([1, 0, 1, 0], [1, 1, 0, 0], {
    sensitiveFeatures: ["x", "x", "x", "y"],
    minGroupSize: 2,
  });
  assert.equal(r.demographicParityDifference, null);
  assert.equal(r.demographicParityRatio, null);
  assert.deepEqual(r.disparities.selectionRate.compared, ["x"]);
});

test("hand-computed: a group without actual positives has no TPR and is named in undefinedFor", () => {
  // Group q: truths all 0 → TPR undefined (Fairlearn would report 0).
  const r = fairnessReport([1, 1, 0, 0, 0, 0], [1, 0, 1, 0, 1, 1], {
    sensitiveFeatures: ["p", "p", "p", "q", "q", "q"],
  });
  const q = r.groups.find((g) => g.key === "q")!;
  assert.equal(q.truePositiveRate, null);
  assert.equal(q.falsePositiveRate, 2 / 3);
  assert.deepEqual(r.disparities.truePositiveRate.undefinedFor, ["q"]);
  assert.equal(r.equalOpportunityDifference, null);
  assert.equal(r.equalizedOddsDifference, null);
  // FPR: p 1/1, q 2/3.
  assert.equal(r.disparities.falsePositiveRate.difference, 1 - 2 / 3);
});

test("hand-computed: ratio of all-zero selection rates is null (0/0), the difference 0", () => {
  const r = fairnessReport([1, 0, 1, 0], [0, 0, 0, 0], { sensitiveFeatures: ["x", "x", "y", "y"] });
  assert.equal(r.demographicParityDifference, 0);
  assert.equal(r.demographicParityRatio, null);
});

test("booleans are labels too", () => {
  const r = fairnessReport([true, false], [true, true], { sensitiveFeatures: ["x", "y"] });
  assert.equal(r.demographicParityDifference, 0);
  assert.equal(r.groups[0]!.truePositiveRate, 1);
});

test("invalid input throws RangeError naming the argument", () => {
  const sf = { sensitiveFeatures: ["x", "y"] };
  assert.throws(
    () => fairnessReport([1, 0], [1], sf),
    (e) => e instanceof RangeError && /yTrue.*yPred/.test(e.message),
  );
  assert.throws(
    () => fairnessReport([1, 2], [1, 0], sf),
    (e) => e instanceof RangeError && /yTrue\[1\]/.test(e.message),
  );
  assert.throws(
    () => fairnessReport([1, 0], [0.5, 0], sf),
    (e) => e instanceof RangeError && /yPred\[0\]/.test(e.message),
  );
  assert.throws(
    () => fairnessReport([], [], sf),
    (e) => e instanceof RangeError && /yTrue is empty/.test(e.message),
  );
  assert.throws(
    () => fairnessReport([1, 0], [1, 0], { sensitiveFeatures: ["x"] }),
    (e) => e instanceof RangeError && /sensitiveFeatures/.test(e.message),
  );
  assert.throws(
    () => fairnessReport([1, 0], [1, 0], { ...sf, minGroupSize: 0 }),
    (e) => e instanceof RangeError && /minGroupSize/.test(e.message),
  );
  assert.throws(
    () => fairnessReport([1, 0], [1, 0], { ...sf, method: "pairwise" as never }),
    (e) => e instanceof RangeError && /method/.test(e.message),
  );
  assert.throws(
    () => fairnessReport([1, 0], [1, 0], { ...sf, agg: "median" as never }),
    (e) => e instanceof RangeError && /agg/.test(e.message),
  );
});
