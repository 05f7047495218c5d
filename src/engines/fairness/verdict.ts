/**
 * The threshold check: a report and a policy in, a verdict with its reasons out (never a
 * throw for a failing model). A check that cannot be computed fails: a fairness gate that
 * cannot see the groups must not wave the model through.
 */
import type { FairnessReport } from "./disparity.ts";
import type { GroupSelector } from "./groups.ts";
import { privilegedComparison } from "./privileged.ts";
import type { SuccessReport } from "./success.ts";

/** The metrics a policy can hold to a threshold. */
export const FAIRNESS_METRICS = [
  "demographicParity",
  "equalOpportunity",
  "equalizedOdds",
  "successRate",
] as const;
/** What a policy can hold to a threshold. */
export type FairnessMetricName = (typeof FAIRNESS_METRICS)[number];

/** Fairness thresholds, as written under a policy in modelgov.yaml. */
export interface FairnessPolicy {
  /** Largest allowed gap between groups, in percentage points (10 → rates may differ by 0.10). */
  maxGapPoints?: number;
  /** Smallest allowed ratio (0.8 is the four-fifths rule). */
  minRatio?: number;
  /** Names the privileged groups: the checks become AIF360's unprivileged-vs-privileged ones. */
  privileged?: GroupSelector;
  /** Names the unprivileged groups; default: every group not privileged. */
  unprivileged?: GroupSelector;
  /** Default: demographicParity and equalizedOdds for predictions; successRate for outcomes. */
  metrics?: readonly FairnessMetricName[];
}

/** One threshold held against one measured value. */
export interface FairnessCheck {
  metric: FairnessMetricName;
  measure: "difference" | "ratio";
  /** Gap in points for a difference (signed, unprivileged − privileged, in the named-groups case); the ratio otherwise. */
  value: number | null;
  limit: number;
  pass: boolean;
  reason: string;
}

/** Whether every check passed, with the reasons in words and numbers. */
export interface FairnessVerdict {
  pass: boolean;
  /** One sentence per check with its numbers, then a note of any group left out. */
  reasons: string[];
  checks: FairnessCheck[];
}

const LABEL: Record<FairnessMetricName, string> = {
  demographicParity: "demographic parity (selection rate)",
  equalOpportunity: "equal opportunity (true-positive rate)",
  equalizedOdds: "equalized odds (true- and false-positive rates)",
  successRate: "success rate",
};
const EPS = 1e-9;
const round = (x: number, digits = 2) => Number(x.toFixed(digits)).toString();
const pct = (x: number | null) => (x === null ? "n/a" : `${round(x * 100)}%`);

interface Spread {
  difference: number | null;
  ratio: number | null;
  /** The numbers behind the value, in words. */
  detail: string;
}

function checkPolicy(policy: FairnessPolicy, kind: "classification" | "success"): FairnessMetricName[] {
  if (!policy || typeof policy !== "object") throw new RangeError("policy must be an object");
  const { maxGapPoints, minRatio } = policy;
  if (maxGapPoints === undefined && minRatio === undefined)
    throw new RangeError("policy must set maxGapPoints, minRatio or both");
  if (maxGapPoints !== undefined && !(maxGapPoints >= 0 && maxGapPoints <= 100))
    throw new RangeError(`policy.maxGapPoints must be between 0 and 100, got ${maxGapPoints}`);
  if (minRatio !== undefined && !(minRatio > 0 && minRatio <= 1))
    throw new RangeError(`policy.minRatio must be in (0, 1], got ${minRatio}`);
  if (policy.unprivileged !== undefined && policy.privileged === undefined)
    throw new RangeError("policy.unprivileged needs policy.privileged");
  const metrics = [
    ...(policy.metrics ?? (kind === "success" ? ["successRate"] : ["demographicParity", "equalizedOdds"])),
  ];
  if (metrics.length === 0) throw new RangeError("policy.metrics is empty");
  for (const m of metrics) {
    if (!FAIRNESS_METRICS.includes(m))
      throw new RangeError(
        `policy.metrics: unknown metric ${JSON.stringify(m)} (${FAIRNESS_METRICS.join(", ")})`,
      );
    if (kind === "success" && m !== "successRate")
      throw new RangeError(`policy.metrics: ${m} needs predictions; an outcome report has only successRate`);
  }
  return metrics;
}

function betweenGroups(report: FairnessReport | SuccessReport, metric: FairnessMetricName): Spread {
  const describe = (d: { min: { group: string; value: number } | null; max: typeof d.min }) =>
    d.min && d.max
      ? `highest ${d.max.group} ${pct(d.max.value)}, lowest ${d.min.group} ${pct(d.min.value)}`
      : "";
  if (report.kind === "success") return { ...report.disparity, detail: describe(report.disparity) };
  const d = report.disparities;
  if (metric === "demographicParity") return { ...d.selectionRate, detail: describe(d.selectionRate) };
  if (metric === "equalOpportunity") return { ...d.truePositiveRate, detail: describe(d.truePositiveRate) };
  if (metric === "successRate") return { ...d.successRate, detail: describe(d.successRate) };
  return {
    difference: report.equalizedOddsDifference,
    ratio: report.equalizedOddsRatio,
    detail: `TPR: ${describe(d.truePositiveRate)}; FPR: ${describe(d.falsePositiveRate)}`,
  };
}

/** A ratio seen from the worse-off side, so 1.25 and 0.8 are equally far from parity. */
const fold = (r: number | null) => (r === null ? null : r > 1 ? 1 / r : r);

function named(report: FairnessReport | SuccessReport, policy: FairnessPolicy) {
  const c = privilegedComparison(report, {
    privileged: policy.privileged!,
    ...(policy.unprivileged === undefined ? {} : { unprivileged: policy.unprivileged }),
  });
  const u = c.unprivileged;
  const p = c.privileged;
  const sides = (a: number | null, b: number | null) => `unprivileged ${pct(a)} vs privileged ${pct(b)}`;
  const spreads: Record<FairnessMetricName, Spread> = {
    demographicParity: {
      difference: c.statisticalParityDifference,
      ratio: c.disparateImpact,
      detail: `statistical parity difference / disparate impact; ${sides(u.selectionRate, p.selectionRate)}`,
    },
    equalOpportunity: {
      difference: c.equalOpportunityDifference,
      ratio:
        u.truePositiveRate === null || !p.truePositiveRate ? null : u.truePositiveRate / p.truePositiveRate,
      detail: `TPR ${sides(u.truePositiveRate, p.truePositiveRate)}`,
    },
    equalizedOdds: {
      difference: c.averageOddsDifference,
      ratio: (() => {
        const t = fold(
          u.truePositiveRate === null || !p.truePositiveRate ? null : u.truePositiveRate / p.truePositiveRate,
        );
        const f = fold(
          u.falsePositiveRate === null || !p.falsePositiveRate
            ? null
            : u.falsePositiveRate / p.falsePositiveRate,
        );
        return t === null || f === null ? null : Math.min(t, f);
      })(),
      detail: `average odds difference; TPR ${sides(u.truePositiveRate, p.truePositiveRate)}, FPR ${sides(u.falsePositiveRate, p.falsePositiveRate)}`,
    },
    successRate: {
      difference: c.successRateDifference,
      ratio: c.successRateRatio,
      detail: sides(u.successRate, p.successRate),
    },
  };
  return { comparison: c, spreads };
}

/**
 * Holds a report to a policy. Without named groups: the between-groups gap (max − min, in
 * points) must not exceed `maxGapPoints` and the ratio (min / max) must reach `minRatio`.
 * With `privileged`: AIF360's signed unprivileged − privileged differences must stay within
 * ±`maxGapPoints`, and their ratio within [`minRatio`, 1 / `minRatio`] (AIF360's usual fair
 * range for disparate impact is [0.8, 1.25]).
 */
export function fairnessVerdict(
  report: FairnessReport | SuccessReport,
  policy: FairnessPolicy,
): FairnessVerdict {
  const metrics = checkPolicy(policy, report.kind);
  const checks: FairnessCheck[] = [];
  const notes: string[] = [];
  let spreads: Record<FairnessMetricName, Spread> | null = null;
  if (policy.privileged !== undefined) {
    const n = named(report, policy);
    spreads = n.spreads;
    if (n.comparison.status !== "ok") notes.push(`named groups: ${n.comparison.reason}`);
  }
  const isNamed = spreads !== null;
  const unknown = isNamed
    ? "cannot be computed (a side is too small or a rate is undefined)"
    : `cannot be computed (fewer than two groups with at least ${report.minGroupSize} rows and a defined rate)`;

  for (const metric of metrics) {
    const s = spreads ? spreads[metric] : betweenGroups(report, metric);
    const label = LABEL[metric];
    if (policy.maxGapPoints !== undefined) {
      const limit = policy.maxGapPoints;
      const value = s.difference === null ? null : s.difference * 100;
      const pass = value !== null && Math.abs(value) <= limit + EPS;
      const gap = isNamed ? "difference" : "gap";
      const reason =
        value === null
          ? `${label}: ${gap} ${unknown}`
          : `${label}: ${gap} ${round(value)} points ${pass ? "within" : "exceeds"} the maximum ${isNamed ? "±" : ""}${limit} (${s.detail})`;
      checks.push({ metric, measure: "difference", value, limit, pass, reason });
    }
    if (policy.minRatio !== undefined) {
      const limit = policy.minRatio;
      const folded = isNamed ? fold(s.ratio) : s.ratio;
      const pass = folded !== null && folded >= limit - EPS;
      const range = isNamed ? `[${limit}, ${round(1 / limit, 4)}]` : `at least ${limit}`;
      const reason =
        s.ratio === null
          ? `${label}: ratio ${unknown}`
          : `${label}: ratio ${round(s.ratio, 4)} ${pass ? "meets" : "fails"} ${range} (${s.detail})`;
      checks.push({ metric, measure: "ratio", value: s.ratio, limit, pass, reason });
    }
  }
  // Named sides pool their groups, small ones included: only the between-groups checks leave groups out.
  if (!isNamed) for (const g of report.excluded) notes.push(`left out: ${g.key} (${g.n} rows, ${g.reason})`);
  if (report.unassigned > 0)
    notes.push(
      `${report.unassigned} row(s) have no value for ${report.attributes.join(" or ")}: in no group`,
    );
  return { pass: checks.every((c) => c.pass), reasons: [...checks.map((c) => c.reason), ...notes], checks };
}
