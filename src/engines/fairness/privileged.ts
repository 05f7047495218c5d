/**
 * AIF360's privileged/unprivileged definitions, for when a policy names the groups. Each side
 * pools the rows of every group its selector matches (as AIF360 conditions on attribute
 * values), so the signed differences read "unprivileged minus privileged".
 */
import type { FairnessReport } from "./disparity.ts";
import { type GroupSelector, selects } from "./groups.ts";
import { type ConfusionCounts, ratesOf, ratio } from "./metrics.ts";
import type { SuccessReport } from "./success.ts";

/** Which groups are privileged and which unprivileged (default: every other assigned group). */
export interface PrivilegedGroups {
  privileged: GroupSelector;
  unprivileged?: GroupSelector;
}

/** The rows of one side, pooled. Rates are null when the side is below `minGroupSize`. */
export interface Pool {
  groups: string[];
  n: number;
  /** Confusion counts (classification reports only). */
  counts: ConfusionCounts | null;
  /** Successes (success reports) or correct predictions (classification). */
  successes: number;
  selectionRate: number | null;
  successRate: number | null;
  truePositiveRate: number | null;
  falsePositiveRate: number | null;
}

/** AIF360's metrics of the unprivileged side against the privileged side of a report. */
export interface PrivilegedComparison {
  /** "insufficient" when either side has fewer rows than the report's `minGroupSize`. */
  status: "ok" | "insufficient";
  reason: string | null;
  privileged: Pool;
  unprivileged: Pool;
  /** AIF360 `statistical_parity_difference`: P(ŷ=1 | unpriv) − P(ŷ=1 | priv). Classification only. */
  statisticalParityDifference: number | null;
  /** AIF360 `disparate_impact`: P(ŷ=1 | unpriv) / P(ŷ=1 | priv); null when the privileged rate is 0. */
  disparateImpact: number | null;
  /** AIF360 `equal_opportunity_difference`: TPR(unpriv) − TPR(priv). */
  equalOpportunityDifference: number | null;
  /** AIF360 `average_odds_difference`: ½[(FPR(u) − FPR(p)) + (TPR(u) − TPR(p))]. */
  averageOddsDifference: number | null;
  /** Success rate (or accuracy) of unpriv − priv. */
  successRateDifference: number | null;
  /** Success rate (or accuracy) of unpriv / priv; null when the privileged rate is 0. */
  successRateRatio: number | null;
}

const minus = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);
const div = (a: number | null, b: number | null) => (a === null || b === null ? null : ratio(a, b));

function pool(report: FairnessReport | SuccessReport, keys: Set<string>, rated: boolean): Pool {
  const groups = [...keys];
  if (report.kind === "classification") {
    const counts: ConfusionCounts = { tp: 0, fp: 0, tn: 0, fn: 0 };
    for (const g of report.groups) {
      if (!keys.has(g.key)) continue;
      counts.tp += g.counts.tp;
      counts.fp += g.counts.fp;
      counts.tn += g.counts.tn;
      counts.fn += g.counts.fn;
    }
    const rates = ratesOf(counts);
    return {
      groups,
      n: counts.tp + counts.fp + counts.tn + counts.fn,
      counts,
      successes: counts.tp + counts.tn,
      selectionRate: rated ? rates.selectionRate : null,
      successRate: rated ? rates.successRate : null,
      truePositiveRate: rated ? rates.truePositiveRate : null,
      falsePositiveRate: rated ? rates.falsePositiveRate : null,
    };
  }
  let n = 0;
  let successes = 0;
  for (const g of report.groups) {
    if (!keys.has(g.key)) continue;
    n += g.n;
    successes += g.successes;
  }
  return {
    groups,
    n,
    counts: null,
    successes,
    selectionRate: null,
    successRate: rated ? ratio(successes, n) : null,
    truePositiveRate: null,
    falsePositiveRate: null,
  };
}

/**
 * Compares the unprivileged with the privileged side of a report. Groups too small on their
 * own still count here: the sides are pooled, and it is the pool that must reach `minGroupSize`.
 */
export function privilegedComparison(
  report: FairnessReport | SuccessReport,
  sides: PrivilegedGroups,
): PrivilegedComparison {
  if (!sides || sides.privileged === undefined) throw new RangeError("privileged is required");
  const priv = new Set<string>();
  const unpriv = new Set<string>();
  for (const g of report.groups) {
    const isPriv = selects(sides.privileged, g, report.attributes, "privileged");
    const isUnpriv =
      sides.unprivileged === undefined
        ? !isPriv
        : selects(sides.unprivileged, g, report.attributes, "unprivileged");
    if (isPriv && isUnpriv)
      throw new RangeError(`group "${g.key}" is selected by both privileged and unprivileged`);
    if (isPriv) priv.add(g.key);
    if (isUnpriv) unpriv.add(g.key);
  }
  if (priv.size === 0) throw new RangeError("privileged matches no group");
  if (unpriv.size === 0) throw new RangeError("unprivileged matches no group");

  const sizes = [pool(report, priv, false), pool(report, unpriv, false)];
  const small = sizes.flatMap((p, j) =>
    p.n < report.minGroupSize ? [`${j === 0 ? "privileged" : "unprivileged"} has ${p.n} rows`] : [],
  );
  const ok = small.length === 0;
  const p = pool(report, priv, ok);
  const u = pool(report, unpriv, ok);
  const tprGap = minus(u.truePositiveRate, p.truePositiveRate);
  const fprGap = minus(u.falsePositiveRate, p.falsePositiveRate);
  return {
    status: ok ? "ok" : "insufficient",
    reason: ok ? null : `${small.join(" and ")}, fewer than ${report.minGroupSize} (minGroupSize)`,
    privileged: p,
    unprivileged: u,
    statisticalParityDifference: minus(u.selectionRate, p.selectionRate),
    disparateImpact: div(u.selectionRate, p.selectionRate),
    equalOpportunityDifference: tprGap,
    averageOddsDifference: tprGap === null || fprGap === null ? null : (fprGap + tprGap) / 2,
    successRateDifference: minus(u.successRate, p.successRate),
    successRateRatio: div(u.successRate, p.successRate),
  };
}
