// Reference values: scipy 1.17 (pooled z by stats.norm.sf, stats.ttest_ind_from_stats with
// equal_var=False) and the stats engine's own holm / benjaminiHochberg, pinned in their tests.
import assert from "node:assert/strict";
import { test } from "node:test";
import { near } from "../../test-support/approx.ts";
import { benjaminiHochberg, holm } from "../stats/index.ts";
import { experimentResults } from "./results.ts";
import type { ArmInput, ExperimentInput } from "./types.ts";

/** Scores with the given mean and standard deviation over n: sumSquares = (n - 1) sd^2 + n mean^2. */
function arm(
  name: string,
  successes: number,
  errors: number,
  score: [number, number],
  patch: Partial<ArmInput> = {},
): ArmInput {
  const n = 10_000;
  const [mean, sd] = score;
  return {
    name,
    version: name,
    weight: 1,
    requests: n,
    errors,
    feedbackCount: n,
    successes,
    scoreCount: 2000,
    scoreSum: mean * 2000,
    scoreSumSquares: 1999 * sd * sd + 2000 * mean * mean,
    costUsd: 10,
    latencyP95Ms: 300,
    ...patch,
  };
}

const arms = [arm("A", 800, 50, [0.7, 0.2]), arm("B", 960, 80, [0.72, 0.21]), arm("C", 900, 50, [0.7, 0.2])];
// The arms hold 10,000 feedback each: the planned horizon is reached, fixed-horizon p-values show.
const base: ExperimentInput = {
  arms,
  primary: "success_rate",
  secondary: ["error_rate", "score_mean", "success_rate"],
  plan: { samplePerArm: 10_000, baselineRate: 0.08 },
};

test("three arms: the primary's always-valid p-values are Holm-adjusted across the treatments", () => {
  const r = experimentResults(base);
  const [b, c] = r.primary;
  near(b!.sequential!.pValue, 0.002544595767539793, 1e-7, "B");
  near(c!.sequential!.pValue, 0.17151747948688514, 1e-7, "C");
  assert.deepEqual([b!.adjustedP, c!.adjustedP], holm([b!.sequential!.pValue, c!.sequential!.pValue]));
  near(b!.adjustedP, 2 * 0.002544595767539793, 1e-7, "B adjusted");
  assert.deepEqual([b!.direction, c!.direction], ["better", "none"]);
  assert.equal(r.srm.unit, "requests");
  assert.equal(r.recommendation.arm, "B");
});

test("secondaries: the primary is left out, and the rest are Holm-corrected together", () => {
  const r = experimentResults(base);
  assert.deepEqual(
    r.secondary.map((s) => `${s.metric}:${s.arm}`),
    ["error_rate:B", "error_rate:C", "score_mean:B", "score_mean:C"],
  );
  const [errB, errC, scoreB, scoreC] = r.secondary;
  near(errB!.pValue, 0.00829629730788838, 1e-7, "error rate z p");
  assert.equal(errC!.pValue, 1);
  near(scoreB!.pValue, 0.002054753789309167, 1e-6, "score Welch p");
  near(scoreC!.pValue, 1, 1e-9, "same scores");
  assert.equal(scoreC!.note, null);
  // Significance comes from the always-valid p, Holm-corrected: valid at every look.
  const raw = r.secondary.map((s) => s.sequentialP!);
  assert.ok(
    raw.every((p, i) => p >= (r.secondary[i]!.pValue ?? 0) - 1e-12),
    "always-valid p >= fixed p",
  );
  assert.deepEqual(
    r.secondary.map((s) => s.adjustedP),
    holm(raw),
  );
  // The fixed-horizon p-values (0.008 and 0.002) would call both; the always-valid ones do not yet.
  assert.deepEqual(
    r.secondary.map((s) => s.direction),
    ["none", "none", "none", "none"],
  );
  assert.ok(errB!.pValue! < 0.05 && errB!.adjustedP! > 0.05);
  // Ten times the data shows both: more errors is worse, a higher score is better.
  const big = (a: ArmInput): ArmInput => ({
    ...a,
    requests: a.requests * 10,
    errors: a.errors * 10,
    feedbackCount: a.feedbackCount * 10,
    successes: a.successes * 10,
    scoreCount: a.scoreCount! * 10,
    scoreSum: a.scoreSum! * 10,
    scoreSumSquares: a.scoreSumSquares! * 10,
  });
  const shown = experimentResults({ ...base, arms: arms.map(big) });
  assert.deepEqual(
    shown.secondary.map((s) => s.direction),
    ["worse", "none", "better", "none"],
  );
  near(errB!.lift!.estimate, 0.6, 1e-9, "error lift");
});

test("Benjamini–Hochberg instead of Holm when asked", () => {
  const r = experimentResults({ ...base, multipleTesting: "benjamini-hochberg" });
  assert.deepEqual(
    r.secondary.map((s) => s.adjustedP),
    benjaminiHochberg(r.secondary.map((s) => s.sequentialP!)),
  );
  // Before the horizon the fixed-horizon p is withheld, the always-valid one is there.
  const early = experimentResults({ ...base, plan: { samplePerArm: 20_000, baselineRate: 0.08 } });
  assert.ok(early.secondary.every((s) => s.pValue === null && s.sequentialP !== null));
});

test("score_mean as the primary: Welch p, no chance to beat, mixing variance from plan.scoreVariance", () => {
  const r = experimentResults({
    ...base,
    arms: arms.slice(0, 2),
    primary: "score_mean",
    secondary: [],
    plan: { samplePerArm: 2000, scoreVariance: 0.04 },
  });
  const [b] = r.primary;
  near(b!.pValue, 0.002054753789309167, 1e-6, "Welch p");
  assert.equal(b!.chanceToBeatControl, null);
  near(b!.sequential!.estimate, 0.02, 1e-9, "difference");
  assert.ok(b!.sequential!.pValue > b!.pValue!, "the always-valid p is never below the fixed-horizon p");
});

test("undefined statistics are null with the stats engine's reason, not a crash", () => {
  const flat = (name: string) => arm(name, 0, 0, [0.5, 0]);
  const r = experimentResults({ ...base, arms: [flat("A"), flat("B")], secondary: ["score_mean"] });
  const [score] = r.secondary;
  assert.equal(score!.pValue, null);
  assert.equal(score!.lift, null);
  assert.match(score!.note!, /welchTTestFromSummary: x and y both have zero variance/);
  assert.match(score!.note!, /frequentistLift: control and treatment both have zero variance/);
  const p = r.primary[0]!;
  assert.equal(p.lift, null);
  assert.match(p.note!, /frequentistLift: control has mean 0; relative lift is undefined/);
  assert.equal(p.pValue, 1);
});
