/**
 * Release gates: the numbers an evaluation run must reach before its version may be approved
 * or promoted, per use case (or risk tier, or model). Pure: the gates and a run's report in,
 * a verdict with the failing numbers out. The evals module judges every completed run with
 * the gates matching its model and attaches the verdicts as `benchmark-passed` and
 * `fairness-passed` evidence; the approval policy requires that evidence wherever a gate applies.
 */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import type { RunAggregate } from "../evaluation/aggregate.ts";
import { type FairnessPolicy, fairnessVerdict, type SuccessReport } from "../fairness/index.ts";
import { type ModelFacts, type RuleMatch, ruleMatches } from "./match.ts";

export interface FairnessGate extends FairnessPolicy {
  /** Attributes whose groups are compared; default: every attribute the suite's cases carry. */
  attributes?: string[];
  /** Attribute combinations compared as well, e.g. [["gender", "age_band"]]. */
  intersections?: string[][];
  /** Groups smaller than this are reported as insufficient, not compared (default 30). */
  minGroupSize?: number;
}

export interface ReleaseGate {
  name: string;
  match: RuleMatch;
  /** Only runs of this suite count for the gate (default: any suite). */
  suite?: string;
  successRate?: { min: number };
  meanScore?: { min: number };
  latencyP95Ms?: { max: number };
  /** Cost per 1,000 calls, in USD. */
  costPer1kUsd?: { max: number };
  safetyViolations?: { max: number };
  fairness?: FairnessGate;
}

/** One failing number, in words and as data. */
export interface GateFailure {
  gate: string;
  check: string;
  value: number | null;
  limit: number;
  reason: string;
}

export interface GateVerdict {
  passed: boolean;
  /** Every check in words, passing or not. */
  reasons: string[];
  failures: GateFailure[];
}

/** What the gates look at in a completed run. */
export interface RunFacts {
  suite: string;
  aggregate: RunAggregate;
  /** Success by attribute set ("age_band", "gender × age_band"), as the run computed it. */
  groups: Record<string, SuccessReport>;
}

export function gatesFor(gates: readonly ReleaseGate[], m: ModelFacts): ReleaseGate[] {
  return gates.filter((g) => ruleMatches(g, m));
}

/** A content hash of the gates that apply: a run judged by other gates must be judged again. */
export function gatesHash(gates: readonly ReleaseGate[]): string {
  const sorted = [...gates].sort((a, b) => a.name.localeCompare(b.name));
  return `sha256:${createHash("sha256")
    .update(canonicalize(JSON.parse(JSON.stringify(sorted)))!)
    .digest("hex")}`;
}

/** The attribute sets the gates need broken down (each attribute alone, then intersections). */
export function breakdownPlan(
  gates: readonly ReleaseGate[],
  caseAttributes: readonly string[],
): { attributes: string[]; intersections: string[][]; minGroupSize: number } {
  const fair = gates.flatMap((g) => (g.fairness ? [g.fairness] : []));
  const attributes = new Set<string>(caseAttributes);
  const intersections = new Map<string, string[]>();
  for (const f of fair) {
    for (const a of f.attributes ?? []) attributes.add(a);
    for (const i of f.intersections ?? []) intersections.set(i.join(" × "), i);
  }
  const sizes = fair.map((f) => f.minGroupSize ?? 30);
  return {
    attributes: [...attributes].sort(),
    intersections: [...intersections.values()],
    minGroupSize: sizes.length ? Math.min(...sizes) : 30,
  };
}

const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);
const num = (x: number | null, digits = 3) => (x === null ? "n/a" : String(Number(x.toFixed(digits))));

/** The benchmark part of the gates: success, quality, latency, cost and safety. */
export function judgeBenchmark(gates: readonly ReleaseGate[], run: RunFacts): GateVerdict {
  const reasons: string[] = [];
  const failures: GateFailure[] = [];
  const a = run.aggregate;
  const costPer1k = a.costPerCaseUsd === null ? null : a.costPerCaseUsd * 1000;
  for (const g of gates) {
    if (g.suite && g.suite !== run.suite) {
      const reason = `${g.name}: needs a run of suite '${g.suite}', this run is of '${run.suite}'`;
      failures.push({ gate: g.name, check: "suite", value: null, limit: 0, reason });
      reasons.push(reason);
      continue;
    }
    const check = (
      name: string,
      value: number | null,
      bound: { min: number } | { max: number } | undefined,
      show: (x: number | null) => string,
    ) => {
      if (!bound) return;
      const isMin = "min" in bound;
      const limit = isMin ? bound.min : bound.max;
      const ok = value !== null && (isMin ? value >= limit - 1e-12 : value <= limit + 1e-12);
      const reason = `${g.name}: ${name} ${show(value)} ${ok ? "meets" : "fails"} ${isMin ? "≥" : "≤"} ${show(limit)}`;
      reasons.push(reason);
      if (!ok) failures.push({ gate: g.name, check: name, value, limit, reason });
    };
    check("success rate", a.successRate, g.successRate, pct);
    check("mean score", a.meanScore, g.meanScore, (x) => num(x));
    check("latency p95 (ms)", a.latencyP95Ms, g.latencyP95Ms, (x) => num(x, 0));
    check("cost per 1,000 calls (USD)", costPer1k, g.costPer1kUsd, (x) => num(x, 4));
    check("safety violations", a.safetyViolations, g.safetyViolations, (x) => num(x, 0));
  }
  return { passed: failures.length === 0, reasons, failures };
}

/** The fairness part: each gate's thresholds held to every attribute set it names. */
export function judgeFairness(gates: readonly ReleaseGate[], run: RunFacts): GateVerdict {
  const reasons: string[] = [];
  const failures: GateFailure[] = [];
  for (const g of gates) {
    if (!g.fairness) continue;
    const { attributes, intersections, minGroupSize: _m, ...policy } = g.fairness;
    const sets = [
      ...(attributes ?? Object.keys(run.groups).filter((k) => !k.includes(" × "))),
      ...(intersections ?? []).map((i) => i.join(" × ")),
    ];
    for (const set of sets) {
      const report = run.groups[set];
      if (!report) {
        const reason = `${g.name}: ${set}: the run has no breakdown by ${set} (its cases lack the attribute)`;
        reasons.push(reason);
        failures.push({ gate: g.name, check: set, value: null, limit: policy.maxGapPoints ?? 0, reason });
        continue;
      }
      const verdict = fairnessVerdict(report, policy as FairnessPolicy);
      for (const r of verdict.reasons) reasons.push(`${g.name}: ${set}: ${r}`);
      for (const c of verdict.checks.filter((x) => !x.pass))
        failures.push({
          gate: g.name,
          check: `${set} ${c.metric} ${c.measure}`,
          value: c.value,
          limit: c.limit,
          reason: `${g.name}: ${set}: ${c.reason}`,
        });
    }
  }
  return { passed: failures.length === 0, reasons, failures };
}
