import assert from "node:assert/strict";
import { test } from "node:test";
import type { CaseResult } from "../../engines/evaluation/index.ts";
import { near } from "../../test-support/approx.ts";
import { basisOf, judgeCandidate } from "./evaluation.ts";

const result = (caseId: string, o: Partial<CaseResult> = {}): CaseResult => ({
  caseId,
  passed: true,
  score: 1,
  safetyViolation: false,
  latencyMs: 100,
  costUsd: 0.001,
  tokensIn: 10,
  tokensOut: 10,
  attributes: {},
  ...o,
});

/** n cases: the first `onlyCandidate` pass for the candidate only, the next `onlyProduction` for production only, the rest both. */
function flips(n: number, onlyCandidate: number, onlyProduction: number) {
  const candidate: CaseResult[] = [];
  const production: CaseResult[] = [];
  for (let i = 0; i < n; i++) {
    const id = `c${i}`;
    candidate.push(result(id, { passed: !(i >= onlyCandidate && i < onlyCandidate + onlyProduction) }));
    production.push(result(id, { passed: i >= onlyCandidate }));
  }
  return { candidate, production };
}

test("the task's metric decides what of each case is compared, and in which direction", () => {
  assert.deepEqual(basisOf("success_rate"), { basis: "pass_rate", direction: "higher_is_better" });
  assert.deepEqual(basisOf("error_rate"), { basis: "pass_rate", direction: "higher_is_better" });
  assert.deepEqual(basisOf("score_mean"), { basis: "score", direction: "higher_is_better" });
  assert.deepEqual(basisOf("latency_p95_ms"), { basis: "latency_ms", direction: "lower_is_better" });
  assert.deepEqual(basisOf("cost_per_request_usd"), { basis: "cost_usd", direction: "lower_is_better" });
  // As the monitors name them.
  assert.deepEqual(basisOf("successRate"), { basis: "pass_rate", direction: "higher_is_better" });
  assert.deepEqual(basisOf("refusalRate"), { basis: "pass_rate", direction: "higher_is_better" });
  assert.deepEqual(basisOf("meanScore"), { basis: "score", direction: "higher_is_better" });
  assert.deepEqual(basisOf("latencyP95"), { basis: "latency_ms", direction: "lower_is_better" });
  assert.deepEqual(basisOf("costPerSuccess"), { basis: "cost_usd", direction: "lower_is_better" });
  assert.match(basisOf("psi:input_tokens").note ?? "", /no case-level counterpart/);
  const other = basisOf("input_drift_psi");
  assert.equal(other.basis, "pass_rate");
  assert.match(other.note ?? "", /no case-level counterpart: compared on each case's pass\/fail/);
});

test("pass/fail: 30 flips to the candidate against 6 is significant (scipy binomtest(6, 36) = 6.96e-5)", () => {
  const { candidate, production } = flips(100, 30, 6);
  const v = judgeCandidate({ metric: "success_rate", alpha: 0.05, candidate, production });
  assert.equal(v.passed, true);
  assert.equal(v.test, "mcnemar_exact");
  assert.equal(v.pairs, 100);
  near(v.p, 6.960169412195683e-5, 1e-6, "exact McNemar p");
  near(v.candidateValue, 0.94, 1e-12, "candidate pass rate");
  near(v.productionValue, 0.7, 1e-12, "production pass rate");
  near(v.difference, 0.24, 1e-9, "difference");
  assert.deepEqual(v.details, { onlyCandidate: 30, onlyProduction: 6, discordant: 36 });
  assert.match(
    v.reasons.join("; "),
    /30 only the candidate passed, 6 only production passed; exact McNemar p = 7\.0e-5/,
  );
});

test("pass/fail: 12 flips against 9 is not significant (scipy binomtest(9, 21) = 0.664); more flips to production is not better", () => {
  const close = flips(100, 12, 9);
  const v = judgeCandidate({ metric: "success_rate", alpha: 0.05, ...close });
  assert.equal(v.passed, false);
  near(v.p, 0.6636238098144531, 1e-9, "p");
  assert.match(
    v.reasons.join("; "),
    /not significant \(p ≥ 0\.05\): the candidate must beat production significantly on success_rate/,
  );
  const worse = flips(100, 6, 30);
  const w = judgeCandidate({ metric: "success_rate", alpha: 0.05, ...worse });
  assert.equal(w.passed, false, "significant, but in production's favour");
  assert.match(w.reasons.join("; "), /does not pass more cases than production/);
});

test("a measurement: lower latency on the same cases passes the paired t (scipy ttest_rel: t = -38.53)", () => {
  const c = [100, 120, 90, 110, 95, 105, 98, 102, 99, 101];
  const p = [130, 150, 118, 141, 120, 133, 129, 131, 127, 135];
  const candidate = c.map((x, i) => result(`c${i}`, { latencyMs: x }));
  const production = p.map((x, i) => result(`c${i}`, { latencyMs: x }));
  const v = judgeCandidate({ metric: "latency_p95_ms", alpha: 0.05, candidate, production });
  assert.equal(v.passed, true);
  assert.equal(v.test, "paired_t");
  assert.equal(v.direction, "lower_is_better");
  near(v.details.t as number, -38.53034889875177, 1e-9, "t");
  near(v.p, 2.654029811333089e-11, 1e-6, "p");
  // The same numbers on a higher-is-better basis (a score) are the candidate being worse.
  const asScore = judgeCandidate({
    metric: "score_mean",
    alpha: 0.05,
    candidate: c.map((x, i) => result(`c${i}`, { score: x })),
    production: p.map((x, i) => result(`c${i}`, { score: x })),
  });
  assert.equal(asScore.passed, false);
  assert.match(asScore.reasons.join("; "), /the candidate is not better \(higher is better\)/);
});

test("latency and cost leave out calls that failed; too few pairs or none in common cannot pass", () => {
  const candidate = [result("a", { latencyMs: 10 }), result("b", { latencyMs: 10, error: "timeout" })];
  const production = [result("a", { latencyMs: 90 }), result("b", { latencyMs: 90 }), result("z")];
  const v = judgeCandidate({ metric: "latency_ms", alpha: 0.05, candidate, production });
  assert.equal(v.pairs, 1);
  assert.equal(v.unpaired, 1);
  assert.equal(v.passed, false);
  assert.match(v.reasons[0]!, /1 paired case with a latency_ms: a paired t-test needs at least 2/);
  const none = judgeCandidate({
    metric: "success_rate",
    alpha: 0.05,
    candidate: [result("x")],
    production: [result("y", { passed: false })],
  });
  assert.equal(none.passed, false);
  assert.equal(none.pairs, 0);
  assert.equal(none.unpaired, 2);
  assert.match(none.reasons.join(" "), /no case in common/);
});
