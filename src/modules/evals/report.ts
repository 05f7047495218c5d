/**
 * A completed run's report: the aggregate, success by group (each attribute and the chosen
 * intersections) with bootstrap intervals, and the release gates' verdicts. Its content hash
 * is what `benchmark-passed` / `fairness-passed` evidence points at. Also renders the
 * version card's Quantitative Analyses section from it.
 */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import {
  aggregateRun,
  type CaseResult,
  groupBreakdown,
  type RunAggregate,
} from "../../engines/evaluation/index.ts";
import {
  type BootstrapReport,
  bootstrapSuccess,
  type FairnessReport,
  fairnessReport,
  type SuccessReport,
} from "../../engines/fairness/index.ts";
import {
  breakdownPlan,
  type GateVerdict,
  gatesHash,
  judgeBenchmark,
  judgeFairness,
  type ReleaseGate,
} from "../../engines/policy/gates.ts";
import { normaliseLabel } from "../../engines/scoring/index.ts";
import type { CaseRow, RunRow } from "./evals.store.ts";

export interface RunReport {
  run: { id: string; model: string; version: string; suite: string; suiteHash: string; createdAt: string };
  aggregate: RunAggregate;
  /** Success by attribute set ("age_band", "gender × age_band"). */
  groups: Record<string, SuccessReport>;
  /** 95% percentile-bootstrap intervals of each group's success rate and of the gap (seeded: reproducible). */
  intervals: Record<string, BootstrapReport>;
  /** Every metric of the aggregate, per group of each attribute set. */
  metricsByGroup: Record<string, { key: string; n: number; aggregate: RunAggregate }[]>;
  /**
   * Classification suites (cases expecting a `label`, outputs kept as text): per label, one
   * vs the rest, Fairlearn's selection rate, demographic parity, equalized odds and equal
   * opportunity by each attribute set. Empty otherwise.
   */
  classification: { label: string; byAttribute: Record<string, FairnessReport> }[];
  gates: {
    names: string[];
    hash: string | null;
    benchmark: GateVerdict;
    fairness: GateVerdict | null;
  };
}

/** Groups the cases by the values of an attribute set ("a × b"); cases lacking one stay out. */
function groupsOf(cases: readonly CaseResult[], key: string): Map<string, CaseResult[]> {
  const attrs = key.split(" × ");
  const out = new Map<string, CaseResult[]>();
  for (const c of cases) {
    if (attrs.some((a) => c.attributes[a] === undefined)) continue;
    const k = attrs.map((a) => `${a}=${c.attributes[a]}`).join(", ");
    out.set(k, [...(out.get(k) ?? []), c]);
  }
  return out;
}

/** One-vs-rest fairness per expected label, when the outputs are there to read the predicted label from. */
function classificationReports(
  cases: readonly CaseRow[],
  expected: ReadonlyMap<string, string>,
  sets: string[],
  minGroupSize: number,
): RunReport["classification"] {
  const labelled = cases.filter((c) => expected.has(c.caseId) && c.output !== null);
  if (labelled.length === 0 || labelled.length < cases.length) return [];
  const labels = [...new Set(labelled.map((c) => normaliseLabel(expected.get(c.caseId)!)))].sort();
  return labels.map((label) => ({
    label,
    byAttribute: Object.fromEntries(
      sets.map((set) => [
        set,
        fairnessReport(
          labelled.map((c) => (normaliseLabel(expected.get(c.caseId)!) === label ? 1 : 0)),
          labelled.map((c) => (normaliseLabel(c.output!) === label ? 1 : 0)),
          {
            sensitiveFeatures: labelled.map((c) => c.attributes),
            attributes: set.split(" × "),
            minGroupSize,
          },
        ),
      ]),
    ),
  }));
}

export function buildReport(
  run: RunRow,
  cases: readonly CaseRow[],
  gates: readonly ReleaseGate[],
  /** The expected label of each case that has one (classification suites). */
  expected: ReadonlyMap<string, string> = new Map(),
): RunReport {
  const present = [...new Set(cases.flatMap((c) => Object.keys(c.attributes)))].sort();
  const plan = breakdownPlan(gates, present);
  const intersections = [...run.options.intersections, ...plan.intersections].filter(
    (set, i, all) => all.findIndex((x) => x.join() === set.join()) === i,
  );
  const minGroupSize = Math.min(run.options.minGroupSize, plan.minGroupSize);
  const usable = (set: string[]) => set.every((a) => present.includes(a));
  const groups = groupBreakdown(cases, {
    attributes: plan.attributes.filter((a) => present.includes(a)),
    intersections: intersections.filter(usable),
    minGroupSize,
  });
  const intervals: Record<string, BootstrapReport> = {};
  const rows = cases.map((c) => c.attributes);
  const success = cases.map((c) => (c.passed ? 1 : 0));
  for (const key of Object.keys(groups)) {
    intervals[key] = bootstrapSuccess(success, {
      sensitiveFeatures: rows,
      attributes: key.split(" × "),
      minGroupSize,
      iterations: 1000,
    });
  }
  const aggregate = aggregateRun(cases);
  const facts = { suite: run.suiteName, aggregate, groups };
  const metricsByGroup: RunReport["metricsByGroup"] = {};
  for (const key of Object.keys(groups))
    metricsByGroup[key] = [...groupsOf(cases, key)]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, cs]) => ({ key: k, n: cs.length, aggregate: aggregateRun(cs) }));
  return {
    run: {
      id: run.id,
      model: run.model,
      version: run.version,
      suite: run.suiteName,
      suiteHash: run.suiteHash,
      createdAt: run.createdAt,
    },
    aggregate,
    groups,
    intervals,
    metricsByGroup,
    classification: classificationReports(cases, expected, Object.keys(groups), minGroupSize),
    gates: {
      names: gates.map((g) => g.name),
      hash: gates.length ? gatesHash(gates) : null,
      benchmark: judgeBenchmark(gates, facts),
      fairness: gates.some((g) => g.fairness) ? judgeFairness(gates, facts) : null,
    },
  };
}

export const reportHash = (r: RunReport) =>
  `sha256:${createHash("sha256")
    .update(canonicalize(JSON.parse(JSON.stringify(r)))!)
    .digest("hex")}`;

const pct = (x: number | null | undefined) => (x == null ? "–" : `${(x * 100).toFixed(1)}%`);
const ms = (x: number | null) => (x === null ? "–" : `${Math.round(x)} ms`);

/** Markdown for the card's Quantitative Analyses section, regenerated from the latest run. */
export function cardSection(
  r: RunReport,
  hash: string,
  acceptance?: { by: string; justification: string } | null,
): string {
  const a = r.aggregate;
  const lines = [
    `<!-- generated by modelgov from evaluation run ${r.run.id}; edits are replaced by the next run -->`,
    `Evaluation run \`${r.run.id}\` on suite **${r.run.suite}** (\`${r.run.suiteHash.slice(0, 19)}…\`), ${a.cases} cases; report \`${hash.slice(0, 19)}…\`.`,
    "",
    "| metric | value |",
    "|---|---|",
    `| success rate | ${pct(a.successRate)} (${a.passed}/${a.cases}) |`,
    `| mean score | ${a.meanScore === null ? "–" : a.meanScore.toFixed(3)} |`,
    `| safety violations | ${a.safetyViolations} |`,
    `| errors | ${a.errors} |`,
    `| latency p50 / p95 | ${ms(a.latencyP50Ms)} / ${ms(a.latencyP95Ms)} |`,
    `| cost per case | ${a.costPerCaseUsd === null ? "–" : `$${a.costPerCaseUsd.toFixed(5)}`} |`,
    "",
  ];
  for (const [key, g] of Object.entries(r.groups)) {
    const ci = r.intervals[key];
    lines.push(
      `**Success by ${key}** (gap ${g.maxGapPoints === null ? "–" : `${g.maxGapPoints.toFixed(1)} points`}):`,
      "",
    );
    lines.push("| group | n | success | 95% interval |", "|---|---|---|---|");
    for (const grp of g.groups) {
      const iv = ci?.groups.find((x) => x.key === grp.key);
      const interval = iv && iv.lower !== null ? `${pct(iv.lower)} – ${pct(iv.upper)}` : "–";
      const rate = grp.status === "ok" ? pct(grp.successRate) : `insufficient (< ${g.minGroupSize})`;
      lines.push(`| ${grp.key} | ${grp.n} | ${rate} | ${interval} |`);
    }
    lines.push("");
  }
  const verdicts = [r.gates.benchmark, ...(r.gates.fairness ? [r.gates.fairness] : [])];
  if (r.gates.names.length) {
    lines.push(`**Release gates** (${r.gates.names.join(", ")}):`, "");
    for (const v of verdicts) for (const reason of v.reasons) lines.push(`- ${reason}`);
    if (acceptance) lines.push(`- disparity accepted by ${acceptance.by}: ${acceptance.justification}`);
  } else lines.push("No release gate applies to this model.");
  return lines.join("\n");
}
