import assert from "node:assert/strict";
import { test } from "node:test";
import { mixtureLR } from "../../test-support/sprt-by-hand.ts";
import { binomialSf } from "../stats/index.ts";
import { judgeAgreement } from "./agreement.ts";
import { validatePlan } from "./plans.ts";
import type { Plan, VersionWindow } from "./types.ts";

const window = (compared: number, agreed: number): VersionWindow => ({
  requests: compared,
  errors: 0,
  feedbackCount: 0,
  successes: 0,
  latencyP95Ms: 100,
  costUsd: 0,
  agreementCompared: compared,
  agreed,
});
const ctx = { minSample: 50, alpha: 0.05 };
const metric = { kind: "agreement" as const, min: 0.9 };

test("too few compared answers: insufficient data", () => {
  const r = judgeAgreement(metric, window(49, 49), ctx);
  assert.equal(r.status, "insufficient_data");
  assert.match(r.reason, /49 compared answers, below the minimum of 50/);
});

test("agreement at or above the minimum passes; below it fails only on Wald's SPRT, valid at every look", () => {
  assert.equal(judgeAgreement(metric, window(100, 95), ctx).status, "pass");
  assert.equal(judgeAgreement(metric, window(100, 90), ctx).status, "pass");
  const bad = judgeAgreement(metric, window(100, 75), ctx);
  assert.equal(bad.status, "fail");
  // 25 disagreements of 100 against a 10% limit: the mixture's likelihood ratio by hand.
  const lr = mixtureLR(25, 100, 0.1, (k) => Math.min(0.1 * k, 0.1 + 0.9 * 0.9));
  assert.ok(Math.abs((bad.numbers.pDisagreementAbove as number) - 1 / lr) < 1e-12);
  assert.match(bad.reason, /75\.0% of 100 answers, significantly below 90\.0%/);
  // 87 of 100: below 90%; the fixed exact test's p (0.20) and the SPRT both say not shown.
  assert.ok(binomialSf(12, 100, 0.1) > 0.05);
  assert.equal(judgeAgreement(metric, window(100, 87), ctx).status, "inconclusive");
});

test("a plan's agreement metric needs a rate in (0, 1]", () => {
  const plan: Plan = {
    name: "bg",
    steps: [{ weight: 100, durationMs: 1000 }],
    analysisIntervalMs: 1000,
    minSamplePerArm: 10,
    failureLimit: 1,
    metrics: [{ kind: "agreement", min: 1.5 }],
    fastPath: { windowMs: 1000, minRequests: 10 },
  };
  assert.deepEqual(
    validatePlan(plan).map((p) => p.field),
    ["metrics[0].min"],
  );
});
