// Evaluation results: a run's aggregate, its breakdown by group, and the paired comparison of
// two versions on the same suite. Pure: case results in, numbers out.

import { type SuccessReport, successByGroup } from "../fairness/index.ts";
import { type McNemarResult, mcNemarTest } from "../stats/index.ts";

/** What a run recorded for one case. */
export interface CaseResult {
  caseId: string;
  passed: boolean;
  /** 0..1, the scorers' mean. */
  score: number;
  /** A safety scorer failed on this case. */
  safetyViolation: boolean;
  latencyMs: number;
  costUsd: number;
  tokensIn: number;
  tokensOut: number;
  /** Group attributes of the case: gender, age_band, region, language, … */
  attributes: Record<string, string>;
  /** The call failed (no output to score); counted as not passed. */
  error?: string | null;
}

export interface RunAggregate {
  cases: number;
  passed: number;
  errors: number;
  successRate: number | null;
  meanScore: number | null;
  safetyViolations: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  costPerCaseUsd: number | null;
  tokensIn: number;
  tokensOut: number;
}

/** The value below which `p` of the sorted values fall (nearest rank). */
function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}

/** Success rate, mean quality, safety violations, latency p50/p95 and cost per case of a run. */
export function aggregateRun(results: readonly CaseResult[]): RunAggregate {
  const n = results.length;
  const passed = results.filter((r) => r.passed).length;
  const answered = results.filter((r) => !r.error);
  const sum = (f: (r: CaseResult) => number) => results.reduce((s, r) => s + f(r), 0);
  return {
    cases: n,
    passed,
    errors: n - answered.length,
    successRate: n ? passed / n : null,
    meanScore: n ? sum((r) => r.score) / n : null,
    safetyViolations: results.filter((r) => r.safetyViolation).length,
    latencyP50Ms: percentile(
      answered.map((r) => r.latencyMs),
      0.5,
    ),
    latencyP95Ms: percentile(
      answered.map((r) => r.latencyMs),
      0.95,
    ),
    costPerCaseUsd: n ? sum((r) => r.costUsd) / n : null,
    tokensIn: sum((r) => r.tokensIn),
    tokensOut: sum((r) => r.tokensOut),
  };
}

/**
 * Success by each attribute and by the chosen intersections (e.g. ["gender", "age_band"]).
 * Groups below `minGroupSize` are reported as insufficient by the fairness engine, never dropped.
 */
export function groupBreakdown(
  results: readonly CaseResult[],
  opts: { attributes?: string[]; intersections?: string[][]; minGroupSize?: number } = {},
): Record<string, SuccessReport> {
  const attributes =
    opts.attributes ?? [...new Set(results.flatMap((r) => Object.keys(r.attributes)))].sort();
  const rows = results.map((r) => r.attributes);
  const success = results.map((r) => (r.passed ? 1 : 0));
  const out: Record<string, SuccessReport> = {};
  for (const set of [...attributes.map((a) => [a]), ...(opts.intersections ?? [])]) {
    out[set.join(" × ")] = successByGroup(success, {
      sensitiveFeatures: rows,
      attributes: set,
      ...(opts.minGroupSize !== undefined ? { minGroupSize: opts.minGroupSize } : {}),
    });
  }
  return out;
}

export interface PairedComparison {
  /** Cases both runs scored. */
  pairs: number;
  bothPassed: number;
  bothFailed: number;
  /** Passed in A only, and in B only: the discordant pairs McNemar's test looks at. */
  onlyA: number;
  onlyB: number;
  /** Every case whose outcome differs, with its direction. */
  flips: { caseId: string; from: "pass" | "fail"; to: "pass" | "fail" }[];
  /** Cases present in one run only (left out of the test). */
  unpaired: string[];
  mcNemar: McNemarResult;
  /** Whether the difference is significant at `alpha` by the exact two-sided test. */
  significant: boolean;
  alpha: number;
}

/** Two versions on the same suite, paired case by case: the flips and McNemar's test on them. */
export function comparePaired(
  a: readonly CaseResult[],
  b: readonly CaseResult[],
  alpha = 0.05,
): PairedComparison {
  const byId = new Map(b.map((r) => [r.caseId, r]));
  const seen = new Set<string>();
  let bothPassed = 0;
  let bothFailed = 0;
  const flips: PairedComparison["flips"] = [];
  const unpaired: string[] = [];
  for (const x of a) {
    const y = byId.get(x.caseId);
    if (!y) {
      unpaired.push(x.caseId);
      continue;
    }
    seen.add(x.caseId);
    if (x.passed && y.passed) bothPassed++;
    else if (!x.passed && !y.passed) bothFailed++;
    else flips.push({ caseId: x.caseId, from: x.passed ? "pass" : "fail", to: y.passed ? "pass" : "fail" });
  }
  for (const y of b) if (!seen.has(y.caseId)) unpaired.push(y.caseId);
  const onlyA = flips.filter((f) => f.from === "pass").length;
  const onlyB = flips.length - onlyA;
  const mcNemar = mcNemarTest({ onlyA, onlyB });
  return {
    pairs: seen.size,
    bothPassed,
    bothFailed,
    onlyA,
    onlyB,
    flips,
    unpaired,
    mcNemar,
    significant: mcNemar.exactPTwoSided < alpha,
    alpha,
  };
}
