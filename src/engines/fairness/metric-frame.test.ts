import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { closeTo } from "../../test-support/approx.ts";
import { metricFrame } from "./metric-frame.ts";
import {
  accuracy,
  count,
  falseNegativeRate,
  falsePositiveRate,
  meanPrediction,
  selectionRate,
  truePositiveRate,
} from "./metrics.ts";

interface FairnessVector {
  id: string;
  yTrue: number[];
  yPred: number[];
  group: string[];
  expect: {
    demographicParityDifference: number;
    demographicParityRatio: number;
    byGroup: Record<string, { n: number; selectionRate: number; tpr: number; fpr: number }>;
    overall: { selectionRate: number; tpr: number; fpr: number };
    toOverall: { selectionRateDifference: number; selectionRateRatio: number };
  };
}
const vectors = JSON.parse(
  readFileSync(new URL("../../../reference/stats-vectors.json", import.meta.url), "utf8"),
) as { fairness: FairnessVector[] };

/** The reference file's tolerance: 1e-4, absolute below 1 and relative above. */
const close = (actual: unknown, expected: number, what: string) => closeTo(actual, expected, 1e-4, what);

test("fairlearn-docs-example: MetricFrame by_group, overall, group_min/max, difference and ratio by both methods", () => {
  const v = vectors.fairness.find((c) => c.id === "fairlearn-docs-example");
  assert.ok(v, "vector fairlearn-docs-example is missing");
  const mf = metricFrame({
    metrics: { selection: selectionRate, tpr: truePositiveRate, fpr: falsePositiveRate, n: count },
    yTrue: v.yTrue,
    yPred: v.yPred,
    sensitiveFeatures: v.group,
  });
  const sel = mf.metrics["selection"]!;
  for (const [g, e] of Object.entries(v.expect.byGroup)) {
    close(sel.byGroup[g], e.selectionRate, `selection rate of ${g}`);
    close(mf.metrics["tpr"]!.byGroup[g], e.tpr, `TPR of ${g}`);
    close(mf.metrics["fpr"]!.byGroup[g], e.fpr, `FPR of ${g}`);
    assert.equal(mf.metrics["n"]!.byGroup[g], e.n);
  }
  close(sel.overall, v.expect.overall.selectionRate, "overall selection rate");
  close(mf.metrics["tpr"]!.overall, v.expect.overall.tpr, "overall TPR");
  close(mf.metrics["fpr"]!.overall, v.expect.overall.fpr, "overall FPR");
  close(sel.difference, v.expect.demographicParityDifference, "between_groups difference");
  close(sel.ratio, v.expect.demographicParityRatio, "between_groups ratio");
  close(sel.differenceToOverall, v.expect.toOverall.selectionRateDifference, "to_overall difference");
  close(sel.ratioToOverall, v.expect.toOverall.selectionRateRatio, "to_overall ratio");
  assert.deepEqual(sel.groupMax, { group: "a", value: 0.75 });
  assert.deepEqual(sel.groupMin, { group: "b", value: 0.5 });
  assert.deepEqual(
    mf.groups.map((g) => [g.key, g.n, g.status]),
    [
      ["a", 4, "ok"],
      ["b", 6, "ok"],
      ["c", 8, "ok"],
    ],
  );
});

test("hand-computed: a per-row measure (latency) per intersection, min group size honoured", () => {
  const latency = [100, 200, 300, 400, 500, 600, 700];
  const mf = metricFrame({
    metrics: { latency: meanPrediction },
    yTrue: latency,
    sensitiveFeatures: {
      region: ["eu", "eu", "eu", "us", "us", "us", "us"],
      tier: ["free", "free", "paid", "free", "free", "paid", "paid"],
    },
    minGroupSize: 2,
  });
  const m = mf.metrics["latency"]!;
  assert.deepEqual(m.byGroup, {
    "region=eu, tier=free": 150,
    "region=eu, tier=paid": null,
    "region=us, tier=free": 450,
    "region=us, tier=paid": 650,
  });
  assert.equal(m.overall, 400);
  assert.equal(m.difference, 500);
  assert.equal(m.ratio, 150 / 650);
  assert.equal(m.differenceToOverall, 250);
  assert.equal(m.ratioToOverall, 150 / 400);
  assert.deepEqual(mf.excluded, [
    { key: "region=eu, tier=paid", n: 1, reason: "fewer than 2 rows (minGroupSize)" },
  ]);
});

test("hand-computed: accuracy and false negative rate as MetricFrame metrics", () => {
  const mf = metricFrame({
    metrics: { acc: accuracy, fnr: falseNegativeRate },
    yTrue: [1, 1, 0, 1, 0, 0],
    yPred: [1, 0, 0, 1, 1, 1],
    sensitiveFeatures: ["x", "x", "x", "y", "y", "y"],
  });
  assert.deepEqual(mf.metrics["acc"]!.byGroup, { x: 2 / 3, y: 1 / 3 });
  assert.deepEqual(mf.metrics["fnr"]!.byGroup, { x: 0.5, y: 0 });
  assert.equal(mf.metrics["fnr"]!.ratio, 0);
});

test("a metric that throws on non-binary labels names the argument", () => {
  assert.throws(
    () =>
      metricFrame({
        metrics: { s: selectionRate },
        yTrue: [1, 0],
        yPred: [2, 0],
        sensitiveFeatures: ["a", "b"],
      }),
    (e) => e instanceof RangeError && /yPred\[0\]/.test(e.message),
  );
  assert.throws(
    () => metricFrame({ metrics: {}, yTrue: [1], sensitiveFeatures: ["a"] }),
    (e) => e instanceof RangeError && /metrics/.test(e.message),
  );
  assert.throws(
    () => metricFrame({ metrics: { c: count }, yTrue: [1, Number.NaN], sensitiveFeatures: ["a", "b"] }),
    (e) => e instanceof RangeError && /yTrue\[1\]/.test(e.message),
  );
});
