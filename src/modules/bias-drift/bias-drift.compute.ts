/**
 * The pure part of bias drift: one window's outcomes and the release gates in, the points
 * and the alert decision out. No I/O, so the rule is tested without a database.
 */
import {
  fairnessVerdict,
  type SuccessGroup,
  type SuccessReport,
  successByGroup,
} from "../../engines/fairness/index.ts";
import type { ReleaseGate } from "../../engines/policy/gates.ts";
import type { GroupOutcomes } from "../request-log/index.ts";

/** Joins the attributes of an intersection, as evaluation runs name them ("gender × age_band"). */
export const INTERSECTION = " × ";
/** A release gate's default minimum group size, used as well when no gate applies. */
export const DEFAULT_MIN_GROUP_SIZE = 30;

/** One attribute set and what it is held to: the strictest of the gates that name it. */
export interface SetPolicy {
  /** "language", or "gender × age_band" for an intersection. */
  attribute: string;
  attributes: string[];
  /** Null when no gate with fairness names this set: the point is recorded, not judged. */
  maxGapPoints: number | null;
  minRatio: number | null;
  minGroupSize: number;
  /** The gates behind the thresholds. */
  gates: string[];
}

/** A point before it is stored: what one version did for one attribute set in one window. */
export interface PointDraft {
  versionId: string;
  attribute: string;
  n: number;
  unassigned: number;
  groups: SuccessGroup[];
  gapPoints: number | null;
  ratio: number | null;
  thresholdPoints: number | null;
  minRatio: number | null;
  minGroupSize: number;
  breached: boolean;
  reasons: string[];
  /** The failing checks in words (kept for the alert, not stored). */
  breaches: string[];
}

const minOf = (a: number | null, b: number | undefined) =>
  b === undefined ? a : a === null ? b : Math.min(a, b);
const maxOf = (a: number | null, b: number | undefined) =>
  b === undefined ? a : a === null ? b : Math.max(a, b);

/**
 * The attribute sets to compute for one version: those the fairness gates name (each gate's
 * `attributes`, default every attribute present, and its `intersections`); with no such
 * gate, every attribute present. A set whose attributes the window's data lacks is skipped:
 * there is nothing to record.
 */
export function attributeSets(gates: readonly ReleaseGate[], present: readonly string[]): SetPolicy[] {
  const sets = new Map<string, SetPolicy>();
  const add = (attributes: readonly string[], gate?: ReleaseGate) => {
    if (!attributes.every((a) => present.includes(a))) return;
    const attribute = attributes.join(INTERSECTION);
    const s = sets.get(attribute) ?? {
      attribute,
      attributes: [...attributes],
      maxGapPoints: null,
      minRatio: null,
      minGroupSize: Number.POSITIVE_INFINITY,
      gates: [],
    };
    sets.set(attribute, s);
    const f = gate?.fairness;
    if (!gate || !f) return;
    s.maxGapPoints = minOf(s.maxGapPoints, f.maxGapPoints);
    // A ratio of 0 asks nothing (and the engine refuses it).
    s.minRatio = maxOf(s.minRatio, f.minRatio ? f.minRatio : undefined);
    s.minGroupSize = Math.min(s.minGroupSize, f.minGroupSize ?? DEFAULT_MIN_GROUP_SIZE);
    if (!s.gates.includes(gate.name)) s.gates.push(gate.name);
  };
  const fair = gates.filter((g) => g.fairness);
  if (fair.length === 0) for (const a of present) add([a]);
  for (const g of fair) {
    for (const a of g.fairness?.attributes ?? present) add([a], g);
    for (const i of g.fairness?.intersections ?? []) add(i, g);
  }
  return [...sets.values()]
    .map((s) => (Number.isFinite(s.minGroupSize) ? s : { ...s, minGroupSize: DEFAULT_MIN_GROUP_SIZE }))
    .sort((a, b) => a.attribute.localeCompare(b.attribute));
}

/** Every attribute any outcome carries, sorted. */
export function presentAttributes(outcomes: readonly GroupOutcomes[]): string[] {
  const names = new Set<string>();
  for (const o of outcomes) for (const k of Object.keys(o.groups)) names.add(k);
  return [...names].sort();
}

/**
 * Success by group for one version and attribute set, held to the set's thresholds. A point
 * breaches only on a measured number (gap above the maximum, ratio below the minimum):
 * a window with too few rows to compare says nothing about drift, so it never alerts.
 */
export function judgeSet(versionId: string, outcomes: readonly GroupOutcomes[], set: SetPolicy): PointDraft {
  // The engine takes one row per request; counted rows are expanded (the groups object is
  // shared, so a row costs two array slots).
  const success: boolean[] = [];
  const features: Record<string, string>[] = [];
  for (const o of outcomes)
    for (let i = 0; i < o.n; i++) {
      success.push(i < o.successes);
      features.push(o.groups);
    }
  const report: SuccessReport = successByGroup(success, {
    sensitiveFeatures: features,
    attributes: set.attributes,
    minGroupSize: set.minGroupSize,
  });
  const judged = set.maxGapPoints !== null || set.minRatio !== null;
  let breaches: string[] = [];
  let reasons: string[];
  if (judged) {
    const verdict = fairnessVerdict(report, {
      ...(set.maxGapPoints === null ? {} : { maxGapPoints: set.maxGapPoints }),
      ...(set.minRatio === null ? {} : { minRatio: set.minRatio }),
      metrics: ["successRate"],
    });
    breaches = verdict.checks.filter((c) => !c.pass && c.value !== null).map((c) => c.reason);
    reasons = verdict.reasons;
  } else {
    reasons = [
      "no release gate with fairness applies to this model: recorded, not judged",
      ...report.excluded.map((g) => `left out: ${g.key} (${g.n} rows, ${g.reason})`),
    ];
  }
  return {
    versionId,
    attribute: set.attribute,
    n: report.n,
    unassigned: report.unassigned,
    groups: report.groups,
    gapPoints: report.maxGapPoints,
    ratio: report.disparity.ratio,
    thresholdPoints: set.maxGapPoints,
    minRatio: set.minRatio,
    minGroupSize: set.minGroupSize,
    breached: breaches.length > 0,
    reasons,
    breaches,
  };
}

/** Every point of one window: per version with feedback, per attribute set. */
export function judgeWindow(outcomes: readonly GroupOutcomes[], gates: readonly ReleaseGate[]): PointDraft[] {
  const byVersion = new Map<string, GroupOutcomes[]>();
  for (const o of outcomes) byVersion.set(o.versionId, [...(byVersion.get(o.versionId) ?? []), o]);
  const points: PointDraft[] = [];
  for (const [versionId, rows] of [...byVersion].sort((a, b) => a[0].localeCompare(b[0])))
    for (const set of attributeSets(gates, presentAttributes(rows)))
      points.push(judgeSet(versionId, rows, set));
  return points;
}

/**
 * The alert rule: a point that breaches raises an alert when the previous judged point of
 * the same version and attribute did not breach, or when there is none. A gap that stays
 * past the policy alerts once, not every window; one that closes and widens again, again.
 */
export function shouldAlert(
  point: Pick<PointDraft, "breached">,
  previous: { breached: boolean } | null,
): boolean {
  return point.breached && !previous?.breached;
}
