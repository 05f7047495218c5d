import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { within } from "../../test-support/approx.ts";
import { fairnessReport } from "./disparity.ts";
import { privilegedComparison } from "./privileged.ts";
import { successByGroup } from "./success.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../../../reference/stats-vectors.json", import.meta.url), "utf8"),
) as { fairness: Array<{ id: string; yTrue: number[]; yPred: number[]; group: string[] }> };

/** Exact arithmetic: the values are ratios of small counts. */
const close = (actual: unknown, expected: number, what: string) => within(actual, expected, 1e-12, what);

test("fairlearn-docs-example data, hand-computed AIF360 metrics: privileged a, unprivileged b ∪ c by default", () => {
  const v = vectors.fairness.find((c) => c.id === "fairlearn-docs-example");
  assert.ok(v, "vector fairlearn-docs-example is missing");
  const c = privilegedComparison(fairnessReport(v.yTrue, v.yPred, { sensitiveFeatures: v.group }), {
    privileged: "a",
  });
  // a: tp 1, fp 2, tn 0, fn 1.  b ∪ c pooled: tp 5, fp 2, tn 2, fn 5 (14 rows).
  assert.deepEqual(c.privileged.counts, { tp: 1, fp: 2, tn: 0, fn: 1 });
  assert.deepEqual(c.unprivileged.counts, { tp: 5, fp: 2, tn: 2, fn: 5 });
  assert.deepEqual(c.unprivileged.groups, ["b", "c"]);
  assert.equal(c.status, "ok");
  close(c.statisticalParityDifference, 0.5 - 0.75, "statistical parity difference");
  close(c.disparateImpact, 0.5 / 0.75, "disparate impact");
  close(c.equalOpportunityDifference, 0.5 - 0.5, "equal opportunity difference");
  close(c.averageOddsDifference, (0.5 - 1 + (0.5 - 0.5)) / 2, "average odds difference");
  close(c.successRateDifference, 0.5 - 0.25, "accuracy difference");
  close(c.successRateRatio, 2, "accuracy ratio");
});

// Hand-computed intersection case (12 rows): gender × age.
const sensitiveFeatures = {
  gender: ["f", "f", "f", "f", "f", "f", "m", "m", "m", "m", "m", "m"],
  age: ["y", "y", "y", "o", "o", "o", "y", "y", "y", "o", "o", "o"],
};
const yTrue = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1];
const yPred = [1, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 1];

test("hand-computed: selectors by attribute pool the intersections (privileged gender m, unprivileged gender f)", () => {
  const report = fairnessReport(yTrue, yPred, { sensitiveFeatures });
  const c = privilegedComparison(report, { privileged: { gender: "m" }, unprivileged: { gender: "f" } });
  // f: selection 1/2, TPR 2/3, FPR 1/3.  m: selection 2/3, TPR 3/4, FPR 1/2.
  close(c.statisticalParityDifference, 1 / 2 - 2 / 3, "SPD");
  close(c.disparateImpact, 0.75, "DI");
  close(c.equalOpportunityDifference, 2 / 3 - 3 / 4, "EOD");
  close(c.averageOddsDifference, -0.125, "AOD");
});

test("hand-computed: one intersection as privileged (key string) against gender f", () => {
  const report = fairnessReport(yTrue, yPred, { sensitiveFeatures });
  const c = privilegedComparison(report, { privileged: ["gender=m, age=y"], unprivileged: { gender: "f" } });
  // m,y: selection 2/3, TPR 1, FPR 0.  f: selection 1/2, TPR 2/3, FPR 1/3.
  assert.equal(c.privileged.n, 3);
  assert.equal(c.unprivileged.n, 6);
  close(c.statisticalParityDifference, 1 / 2 - 2 / 3, "SPD");
  close(c.equalOpportunityDifference, 2 / 3 - 1, "EOD");
  close(c.averageOddsDifference, (1 / 3 + (2 / 3 - 1)) / 2, "AOD");
});

test("hand-computed: sides pool small groups; a side below minGroupSize makes the comparison insufficient", () => {
  const small = fairnessReport(yTrue, yPred, { sensitiveFeatures, minGroupSize: 4 });
  // Every intersection has 3 rows (all insufficient), but each gender pools 6.
  const ok = privilegedComparison(small, { privileged: { gender: "m" } });
  assert.equal(ok.status, "ok");
  close(ok.disparateImpact, 0.75, "DI from pooled small groups");
  const bad = privilegedComparison(small, { privileged: "gender=m, age=y" });
  assert.equal(bad.status, "insufficient");
  assert.equal(bad.reason, "privileged has 3 rows, fewer than 4 (minGroupSize)");
  assert.equal(bad.disparateImpact, null);
  assert.equal(bad.privileged.selectionRate, null);
});

test("hand-computed: outcome reports compare success rates; prediction metrics are null", () => {
  const report = successByGroup([1, 1, 1, 0, 1, 0, 0, 0], {
    sensitiveFeatures: ["x", "x", "x", "x", "y", "y", "y", "y"],
  });
  const c = privilegedComparison(report, { privileged: "x", unprivileged: "y" });
  close(c.successRateDifference, 0.25 - 0.75, "success difference");
  close(c.successRateRatio, 1 / 3, "success ratio");
  assert.equal(c.statisticalParityDifference, null);
  assert.equal(c.averageOddsDifference, null);
});

test("disparate impact is null when the privileged selection rate is 0", () => {
  const report = fairnessReport([1, 0, 1, 0], [0, 0, 1, 0], { sensitiveFeatures: ["p", "p", "u", "u"] });
  const c = privilegedComparison(report, { privileged: "p" });
  assert.equal(c.disparateImpact, null);
  close(c.statisticalParityDifference, 0.5, "SPD");
});

test("selectors that overlap, match nothing or name unknown attributes throw RangeError", () => {
  const report = fairnessReport(yTrue, yPred, { sensitiveFeatures });
  assert.throws(
    () => privilegedComparison(report, { privileged: { gender: "m" }, unprivileged: { age: "y" } }),
    (e) => e instanceof RangeError && /both privileged and unprivileged/.test(e.message),
  );
  assert.throws(
    () => privilegedComparison(report, { privileged: { gender: "x" } }),
    (e) => e instanceof RangeError && /privileged matches no group/.test(e.message),
  );
  assert.throws(
    () => privilegedComparison(report, { privileged: { gender: "m" }, unprivileged: { region: "eu" } }),
    (e) => e instanceof RangeError && /unprivileged names attribute "region"/.test(e.message),
  );
});
