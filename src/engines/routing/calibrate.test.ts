import assert from "node:assert/strict";
import { test } from "node:test";
import { type CalibrationCase, CalibrationError, calibrateThreshold, costQualityCurve } from "./calibrate.ts";

const c = (score: number, cheap: number, strong: number): CalibrationCase => ({
  score,
  cheap: { success: cheap, costUsd: 1 },
  strong: { success: strong, costUsd: 10 },
});
// By hand: the cheap tier fails the cases scored 0.9 and 0.5; the strong tier passes everything.
const CASES = [c(0.9, 0, 1), c(0.7, 1, 1), c(0.5, 0, 1), c(0.2, 1, 1)];

test("the curve from all-cheap to all-strong, one point per distinct score", () => {
  const curve = costQualityCurve(CASES);
  assert.deepEqual(
    curve.map((p) => [p.threshold, p.strongShare, p.successRate, p.costPerCaseUsd]),
    [
      [Number.POSITIVE_INFINITY, 0, 0.5, 1],
      [0.9, 0.25, 0.75, 3.25],
      [0.7, 0.5, 0.75, 5.5],
      [0.5, 0.75, 1, 7.75],
      [Number.NEGATIVE_INFINITY, 1, 1, 10],
    ],
  );
  // Cases with the same score move together.
  const tied = costQualityCurve([c(0.5, 0, 1), c(0.5, 0, 1), c(0.1, 1, 1)]);
  assert.deepEqual(
    tied.map((p) => p.strongShare),
    [0, 2 / 3, 1],
  );
});

test("calibration picks the cheapest threshold that meets the target, absolute or relative to the strong tier", () => {
  const rel = calibrateThreshold(CASES, { target: 0.95, relativeToStrong: true });
  assert.equal(rel.threshold, 0.5);
  assert.equal(rel.point.costPerCaseUsd, 7.75);
  assert.equal(rel.target, 0.95);
  assert.equal(rel.strongOnly.costPerCaseUsd, 10);
  assert.equal(rel.cheapOnly.successRate, 0.5);
  const abs = calibrateThreshold(CASES, { target: 0.75 });
  assert.equal(abs.threshold, 0.9, "0.9 and 0.7 both reach 0.75; 0.9 is cheaper");
  assert.equal(abs.point.costPerCaseUsd, 3.25);
  assert.equal(calibrateThreshold(CASES, { target: 0.5 }).threshold, Number.POSITIVE_INFINITY, "all cheap");
  // A cheap tier better than the strong one on some cases: the best mix can beat both.
  const mixed = [c(0.9, 0, 1), c(0.1, 1, 0)];
  const best = calibrateThreshold(mixed, { target: 1 });
  assert.equal(best.threshold, 0.9);
  assert.equal(best.point.successRate, 1);
});

test("what cannot be calibrated is refused with the best that can be had", () => {
  assert.throws(
    () => calibrateThreshold([c(0.5, 0, 0.5), c(0.2, 0, 0.5)], { target: 0.9 }),
    (e: unknown) => e instanceof CalibrationError && /the best is 0\.5000/.test(e.message),
  );
  assert.throws(() => calibrateThreshold(CASES, { target: 0 }), /in \(0, 1\]/);
  assert.throws(() => costQualityCurve([]), /at least one case/);
  assert.throws(() => costQualityCurve([c(Number.NaN, 0, 1)]), /case 0/);
});
