import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { aggregateRun, type CaseResult, comparePaired, groupBreakdown } from "./index.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../../../reference/stats-vectors.json", import.meta.url), "utf8"),
);

const result = (caseId: string, passed: boolean, over: Partial<CaseResult> = {}): CaseResult => ({
  caseId,
  passed,
  score: passed ? 1 : 0,
  safetyViolation: false,
  latencyMs: 100,
  costUsd: 0.001,
  tokensIn: 10,
  tokensOut: 5,
  attributes: {},
  ...over,
});

test("a run's aggregate: success, mean quality, safety, latency percentiles, cost per case", () => {
  const rs = [
    result("a", true, { latencyMs: 100, score: 1 }),
    result("b", true, { latencyMs: 300, score: 0.5 }),
    result("c", false, { latencyMs: 200, score: 0, safetyViolation: true }),
    result("d", false, { latencyMs: 9999, score: 0, error: "timeout", costUsd: 0 }),
  ];
  const agg = aggregateRun(rs);
  assert.equal(agg.cases, 4);
  assert.equal(agg.passed, 2);
  assert.equal(agg.errors, 1);
  assert.equal(agg.successRate, 0.5);
  assert.equal(agg.meanScore, 0.375);
  assert.equal(agg.safetyViolations, 1);
  assert.equal(agg.latencyP50Ms, 200, "errors are left out of latency");
  assert.equal(agg.latencyP95Ms, 300);
  assert.equal(agg.costPerCaseUsd, 0.003 / 4);
  assert.equal(agg.tokensIn, 40);
  assert.deepEqual(aggregateRun([]).successRate, null);
});

test("paired comparison: the flips and McNemar's test reproduce the reference vector", () => {
  const ref = vectors.mcNemar.find((v: { id: string }) => v.id === "paired-flips-15-5");
  const a: CaseResult[] = [];
  const b: CaseResult[] = [];
  let i = 0;
  const add = (n: number, pa: boolean, pb: boolean) => {
    for (let k = 0; k < n; k++, i++) {
      a.push(result(`c${i}`, pa));
      b.push(result(`c${i}`, pb));
    }
  };
  add(ref.onlyAcorrect, true, false);
  add(ref.onlyBcorrect, false, true);
  add(30, true, true);
  add(10, false, false);
  a.push(result("only-in-a", true));
  const c = comparePaired(a, b);
  assert.equal(c.pairs, 60);
  assert.equal(c.onlyA, 15);
  assert.equal(c.onlyB, 5);
  assert.equal(c.bothPassed, 30);
  assert.equal(c.bothFailed, 10);
  assert.deepEqual(c.unpaired, ["only-in-a"]);
  assert.equal(c.flips.length, 20);
  assert.deepEqual(c.flips[0], { caseId: "c0", from: "pass", to: "fail" });
  assert.ok(
    Math.abs(c.mcNemar.exactPTwoSided - ref.expect.exactPTwoSided) / ref.expect.exactPTwoSided < 1e-4,
  );
  assert.ok(
    Math.abs(c.mcNemar.chiSquareContinuityCorrected - ref.expect.chiSquareContinuityCorrected) < 1e-9,
  );
  assert.equal(c.significant, true);
});

test("group breakdown: per attribute and per intersection, small groups insufficient, not dropped", () => {
  const rs: CaseResult[] = [];
  for (let i = 0; i < 40; i++) {
    const age = i % 2 ? "65+" : "18-34";
    const lang = i % 4 < 2 ? "en" : "de";
    // 18-34 all pass; 65+ passes one in four.
    rs.push(
      result(`g${i}`, age === "18-34" || i % 8 === 1, { attributes: { age_band: age, language: lang } }),
    );
  }
  rs.push(result("lonely", true, { attributes: { age_band: "35-64", language: "fr" } }));
  const b = groupBreakdown(rs, { intersections: [["age_band", "language"]], minGroupSize: 5 });
  assert.deepEqual(Object.keys(b), ["age_band", "language", "age_band × language"]);
  const age = b.age_band!;
  const rate = (key: string) => age.groups.find((g) => g.key === key)?.successRate;
  assert.equal(rate("18-34"), 1);
  assert.equal(rate("65+"), 0.25);
  assert.equal(age.maxGapPoints, 75);
  assert.ok(
    age.excluded.some((g) => g.key === "35-64") ||
      age.groups.some((g) => g.key === "35-64" && g.status === "insufficient"),
    "the one-case group is reported as insufficient",
  );
});
