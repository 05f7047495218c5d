import assert from "node:assert/strict";
import { test } from "node:test";
import { aggregateRun, type CaseResult, groupBreakdown } from "../evaluation/index.ts";
import { DEFAULT_RULE, evaluate, requirementsFor } from "./approval-policy.ts";
import {
  breakdownPlan,
  gatesFor,
  gatesHash,
  judgeBenchmark,
  judgeFairness,
  type ReleaseGate,
} from "./gates.ts";

/** 100 cases: the 65+ band passes `old` of 25, the others `young` of 25 each. */
function cases(young: number, old: number): CaseResult[] {
  return Array.from({ length: 100 }, (_, i) => {
    const band = ["18-29", "30-44", "45-64", "65+"][i % 4]!;
    const k = Math.floor(i / 4);
    return {
      caseId: `c${i}`,
      passed: k < (band === "65+" ? old : young),
      score: k < (band === "65+" ? old : young) ? 1 : 0,
      safetyViolation: i === 0,
      latencyMs: 100 + i * 10,
      costUsd: 0.002,
      tokensIn: 10,
      tokensOut: 5,
      attributes: { age_band: band },
    };
  });
}
const facts = (cs: CaseResult[], suite = "triage") => ({
  suite,
  aggregate: aggregateRun(cs),
  groups: groupBreakdown(cs, { minGroupSize: 20 }),
});
const GATE: ReleaseGate = {
  name: "support",
  match: { useCases: ["support"] },
  successRate: { min: 0.8 },
  latencyP95Ms: { max: 1000 },
  costPer1kUsd: { max: 1.5 },
  safetyViolations: { max: 0 },
  fairness: { maxGapPoints: 10, minGroupSize: 20 },
};
const model = { name: "bot", riskTier: "low", useCases: ["support"] };

test("gates apply by use case, and their hash ignores order", () => {
  const other: ReleaseGate = { name: "sales", match: { useCases: ["sales"] } };
  assert.deepEqual(
    gatesFor([GATE, other], model).map((g) => g.name),
    ["support"],
  );
  assert.equal(gatesHash([GATE, other]), gatesHash([other, GATE]));
  assert.notEqual(gatesHash([GATE]), gatesHash([{ ...GATE, successRate: { min: 0.9 } }]));
  assert.deepEqual(
    breakdownPlan([{ ...GATE, fairness: { maxGapPoints: 5, intersections: [["a", "b"]] } }], ["x"]),
    {
      attributes: ["x"],
      intersections: [["a", "b"]],
      minGroupSize: 30,
    },
  );
});

test("the benchmark gate names every failing number", () => {
  const v = judgeBenchmark([GATE], facts(cases(24, 10)));
  assert.equal(v.passed, false);
  assert.deepEqual(
    v.failures.map((f) => [f.check, f.value === null ? null : Number(f.value.toFixed(6)), f.limit]),
    [
      ["latency p95 (ms)", 1040, 1000],
      ["cost per 1,000 calls (USD)", 2, 1.5],
      ["safety violations", 1, 0],
    ],
  );
  assert.match(v.reasons[0]!, /^support: success rate 82\.0% meets ≥ 80\.0%$/);
  assert.match(v.failures[0]!.reason, /latency p95 \(ms\) 1040 fails ≤ 1000/);
  const suite = judgeBenchmark([{ ...GATE, suite: "other" }], facts(cases(24, 24)));
  assert.match(suite.failures[0]!.reason, /needs a run of suite 'other'/);
});

test("the fairness gate fails past the gap, with the groups' numbers, and passes within it", () => {
  const bad = judgeFairness([GATE], facts(cases(24, 10)));
  assert.equal(bad.passed, false);
  assert.match(
    bad.failures[0]!.reason,
    /support: age_band: success rate: gap 56 points exceeds the maximum 10/,
  );
  const ok = judgeFairness([GATE], facts(cases(24, 23)));
  assert.equal(ok.passed, true, ok.reasons.join("\n"));
  const missing = judgeFairness(
    [{ ...GATE, fairness: { maxGapPoints: 5, attributes: ["gender"] } }],
    facts(cases(24, 24)),
  );
  assert.match(missing.failures[0]!.reason, /no breakdown by gender/);
});

test("a gate makes evaluation evidence required; failing or re-gated evidence is unmet with its reasons", () => {
  const req = requirementsFor([DEFAULT_RULE], model, [GATE]);
  assert.deepEqual(req.evidence, ["card", "benchmark-passed", "fairness-passed"]);
  assert.equal(req.gatesHash, gatesHash([GATE]));
  const at = new Date("2026-01-02T00:00:00Z");
  const signoffs = [
    { signer: "eve", role: "engineering", decision: "approve" as const, signedAt: at.toISOString() },
  ];
  const ev = (
    kind: string,
    passed: boolean,
    gatesHashValue: string | null,
    failures: { reason: string }[] = [],
  ) => ({
    kind,
    contentHash: `sha256:${kind}`,
    passed,
    details: { runId: "evr_1", gatesHash: gatesHashValue, failures },
  });
  const run = (evidence: ReturnType<typeof ev>[]) =>
    evaluate(
      req,
      { status: "pending", cardHash: "c", evidence, signoffs },
      { cardHash: "c", cardComplete: true, cardMissing: [], evidence },
      at,
    ).unmet;
  assert.deepEqual(
    run([ev("benchmark-passed", true, req.gatesHash!), ev("fairness-passed", true, req.gatesHash!)]),
    [],
  );
  const failing = run([
    ev("benchmark-passed", true, req.gatesHash!),
    ev("fairness-passed", false, req.gatesHash!, [{ reason: "age_band gap 56 points" }]),
  ]);
  assert.deepEqual(failing, [
    { requirement: "evidence:fairness-passed", reason: "run evr_1: age_band gap 56 points" },
  ]);
  const stale = run([
    ev("benchmark-passed", true, "sha256:old"),
    ev("fairness-passed", true, req.gatesHash!),
  ]);
  assert.match(stale[0]!.reason, /judged by other release gates/);
  assert.match(run([])[0]!.reason, /no evaluation run judged by the release gates \(support\)/);
});

test("a gate naming privileged groups checks AIF360's unprivileged-vs-privileged difference", () => {
  const gate: ReleaseGate = {
    ...GATE,
    fairness: {
      maxGapPoints: 10,
      privileged: { age_band: "18-29" },
      attributes: ["age_band"],
      minGroupSize: 20,
    },
  };
  const bad = judgeFairness([gate], facts(cases(24, 10)));
  assert.equal(bad.passed, false);
  assert.match(bad.failures[0]!.reason, /difference -?\d+(\.\d+)? points exceeds the maximum ±10/);
  assert.equal(judgeFairness([gate], facts(cases(24, 23))).passed, true);
});
