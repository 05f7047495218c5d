import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fairnessReport } from "./disparity.ts";
import { successByGroup } from "./success.ts";
import { fairnessVerdict } from "./verdict.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../../../reference/stats-vectors.json", import.meta.url), "utf8"),
) as { fairness: Array<{ id: string; yTrue: number[]; yPred: number[]; group: string[] }> };
const fl = () => {
  const v = vectors.fairness.find((c) => c.id === "fairlearn-docs-example");
  assert.ok(v, "vector fairlearn-docs-example is missing");
  return fairnessReport(v.yTrue, v.yPred, { sensitiveFeatures: v.group });
};
const flags = (ones: number, n: number) => Array.from({ length: n }, (_, i) => i < ones);

test("fairlearn-docs-example: between groups, DP passes (25 points, ratio 0.667) and equalized odds fails (100 points, ratio 0)", () => {
  const v = fairnessVerdict(fl(), { maxGapPoints: 30, minRatio: 0.6 });
  assert.equal(v.pass, false);
  assert.deepEqual(
    v.checks.map((c) => [c.metric, c.measure, c.pass]),
    [
      ["demographicParity", "difference", true],
      ["demographicParity", "ratio", true],
      ["equalizedOdds", "difference", false],
      ["equalizedOdds", "ratio", false],
    ],
  );
  assert.equal(
    v.reasons[0],
    "demographic parity (selection rate): gap 25 points within the maximum 30 (highest a 75%, lowest b 50%)",
  );
  assert.match(v.reasons[2]!, /^equalized odds .*: gap 100 points exceeds the maximum 30 /);
  assert.match(v.reasons[3]!, /ratio 0 fails at least 0.6/);
  assert.equal(v.checks[0]!.value, 25);
});

test("fairlearn-docs-example, privileged a (AIF360): |SPD| 25 points passes, disparate impact 0.667 fails the four-fifths rule", () => {
  const v = fairnessVerdict(fl(), {
    maxGapPoints: 30,
    minRatio: 0.8,
    privileged: "a",
    metrics: ["demographicParity"],
  });
  assert.equal(v.pass, false);
  assert.equal(v.checks[0]!.pass, true);
  assert.ok(Math.abs(v.checks[0]!.value! - -25) < 1e-9);
  assert.equal(v.checks[1]!.pass, false);
  assert.ok(Math.abs(v.checks[1]!.value! - 2 / 3) < 1e-12);
  assert.equal(
    v.reasons[1],
    "demographic parity (selection rate): ratio 0.6667 fails [0.8, 1.25] (statistical parity difference / disparate impact; unprivileged 50% vs privileged 75%)",
  );
});

test("hand-computed: with named groups the ratio range is symmetric, [minRatio, 1/minRatio]", () => {
  // privileged selects 5/10; unprivileged 6/10 (DI 1.2) or 8/10 (DI 1.6).
  const report = (unprivSelected: number) =>
    fairnessReport(Array(20).fill(1), [...flags(5, 10), ...flags(unprivSelected, 10)], {
      sensitiveFeatures: [...Array(10).fill("p"), ...Array(10).fill("u")],
    });
  const policy = { minRatio: 0.8, privileged: "p", metrics: ["demographicParity"] as const };
  assert.equal(fairnessVerdict(report(6), policy).pass, true);
  assert.equal(fairnessVerdict(report(8), policy).pass, false);
  assert.equal(fairnessVerdict(report(4), policy).pass, true); // 0.8 exactly
  assert.equal(fairnessVerdict(report(3), policy).pass, false);
});

test("hand-computed: outcome report, gap 20 points against 15 and 25; small groups named as left out", () => {
  const success = [...flags(8, 10), ...flags(6, 10), ...flags(0, 3)];
  const language = [...Array(10).fill("en"), ...Array(10).fill("fr"), ...Array(3).fill("de")] as string[];
  const report = successByGroup(success, { sensitiveFeatures: { language }, minGroupSize: 5 });
  const strict = fairnessVerdict(report, { maxGapPoints: 15 });
  assert.equal(strict.pass, false);
  assert.equal(
    strict.reasons[0],
    "success rate: gap 20 points exceeds the maximum 15 (highest en 80%, lowest fr 60%)",
  );
  assert.equal(strict.reasons[1], "left out: de (3 rows, fewer than 5 rows (minGroupSize))");
  assert.equal(fairnessVerdict(report, { maxGapPoints: 25 }).pass, true);
});

test("a gap equal to the limit passes despite floating point ((0.8 − 0.7)·100 is 10.000000000000009)", () => {
  const report = successByGroup([...flags(8, 10), ...flags(7, 10)], {
    sensitiveFeatures: [...Array(10).fill("a"), ...Array(10).fill("b")],
  });
  assert.equal(fairnessVerdict(report, { maxGapPoints: 10 }).pass, true);
  assert.equal(fairnessVerdict(report, { maxGapPoints: 9.99 }).pass, false);
});

test("a check that cannot be computed fails closed, saying why", () => {
  const report = successByGroup([1, 0, 1], { sensitiveFeatures: ["a", "a", "b"], minGroupSize: 2 });
  const v = fairnessVerdict(report, { maxGapPoints: 10 });
  assert.equal(v.pass, false);
  assert.equal(v.checks[0]!.value, null);
  assert.match(v.reasons[0]!, /cannot be computed \(fewer than two groups with at least 2 rows/);
});

test("named groups too small to compare fail closed", () => {
  const report = fairnessReport([1, 0, 1, 0, 1], [1, 0, 1, 1, 0], {
    sensitiveFeatures: ["p", "p", "p", "u", "u"],
    minGroupSize: 3,
  });
  const v = fairnessVerdict(report, { maxGapPoints: 50, privileged: "p" });
  assert.equal(v.pass, false);
  assert.ok(v.reasons.includes("named groups: unprivileged has 2 rows, fewer than 3 (minGroupSize)"));
});

test("invalid policies throw RangeError naming the field", () => {
  const report = fl();
  const bad = (policy: object, re: RegExp, r: Parameters<typeof fairnessVerdict>[0] = report) =>
    assert.throws(
      () => fairnessVerdict(r, policy),
      (e) => e instanceof RangeError && re.test(e.message),
    );
  bad({}, /maxGapPoints, minRatio or both/);
  bad({ minRatio: 0 }, /policy.minRatio/);
  bad({ maxGapPoints: -1 }, /policy.maxGapPoints/);
  bad({ maxGapPoints: 5, metrics: ["calibration"] }, /policy.metrics: unknown metric "calibration"/);
  bad({ maxGapPoints: 5, unprivileged: "a" }, /policy.unprivileged needs policy.privileged/);
  bad(
    { maxGapPoints: 5, metrics: ["equalizedOdds"] },
    /equalizedOdds needs predictions/,
    successByGroup([1, 0], { sensitiveFeatures: ["a", "b"] }),
  );
});
