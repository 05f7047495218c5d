/**
 * Fairlearn's between-groups fairness definitions on binary predictions: per-group rates,
 * demographic parity, equalized odds and equal opportunity, as differences and ratios.
 */
import { checkMethod, type Disparity, type DisparityMethod, disparityOf } from "./compare.ts";
import {
  type ExcludedGroup,
  excludedGroups,
  type GroupingOptions,
  type GroupStatus,
  groupRows,
  statusOf,
} from "./groups.ts";
import {
  binaryInputs,
  type ConfusionCounts,
  countConfusion,
  RATE_NAMES,
  type RateName,
  type Rates,
  ratesOf,
} from "./metrics.ts";
import { type BinaryLabels, minGroupSizeOf } from "./validate.ts";

/** Fairlearn's `agg` for equalized odds: the worse of the TPR and FPR disparities, or their mean. */
export type EqualizedOddsAgg = "worst_case" | "mean";

/** Options of {@link fairnessReport} and the Fairlearn-style scalar functions. */
export interface FairnessOptions extends GroupingOptions {
  /** Default "between_groups", as Fairlearn. */
  method?: DisparityMethod;
  /** Default "worst_case", as Fairlearn. */
  agg?: EqualizedOddsAgg;
}

/** One group's counts and rates; the rates are null when the group is too small to compare. */
export interface GroupRates extends Rates {
  key: string;
  values: Record<string, string>;
  n: number;
  status: GroupStatus;
  counts: ConfusionCounts;
}

/** Per-group counts and rates of binary predictions and every Fairlearn disparity built on them. */
export interface FairnessReport {
  kind: "classification";
  attributes: string[];
  method: DisparityMethod;
  agg: EqualizedOddsAgg;
  minGroupSize: number;
  /** Rows in the input. */
  n: number;
  /** Rows with no value for a chosen attribute: in `overall`, in no group. */
  unassigned: number;
  overall: Rates & { n: number; counts: ConfusionCounts };
  /** Every group, including those too small to compare (status "insufficient"). */
  groups: GroupRates[];
  /** The groups left out of every comparison, and why. */
  excluded: ExcludedGroup[];
  /** The spread of each rate across the compared groups. */
  disparities: Record<RateName, Disparity>;
  /** Fairlearn `demographic_parity_difference`: selection-rate difference. */
  demographicParityDifference: number | null;
  /** Fairlearn `demographic_parity_ratio`: selection-rate ratio. */
  demographicParityRatio: number | null;
  /** Fairlearn `equalized_odds_difference`: max (or mean) of the TPR and FPR differences. */
  equalizedOddsDifference: number | null;
  /** Fairlearn `equalized_odds_ratio`: min (or mean) of the TPR and FPR ratios. */
  equalizedOddsRatio: number | null;
  /** Fairlearn `equal_opportunity_difference`: TPR difference. */
  equalOpportunityDifference: number | null;
  /** Fairlearn `equal_opportunity_ratio`: TPR ratio. */
  equalOpportunityRatio: number | null;
}

function checkAgg(agg: string | undefined): EqualizedOddsAgg {
  const a = agg ?? "worst_case";
  if (a !== "worst_case" && a !== "mean")
    throw new RangeError(`options.agg must be "worst_case" or "mean", got ${JSON.stringify(a)}`);
  return a;
}

function combine(x: number | null, y: number | null, pick: (a: number, b: number) => number): number | null {
  return x === null || y === null ? null : pick(x, y);
}

/** Every per-group rate and every Fairlearn disparity of binary predictions, in one pass. */
export function fairnessReport(
  yTrue: BinaryLabels,
  yPred: BinaryLabels,
  options: FairnessOptions,
): FairnessReport {
  const labels = binaryInputs(yTrue, yPred);
  if (!options) throw new RangeError("options is required (options.sensitiveFeatures)");
  const method = checkMethod(options.method);
  const agg = checkAgg(options.agg);
  const minGroupSize = minGroupSizeOf(options.minGroupSize);
  const grouping = groupRows(options.sensitiveFeatures, labels.yTrue.length, options.attributes, "yTrue");
  const overallCounts = countConfusion(labels.yTrue, labels.yPred);
  const overall = { n: labels.yTrue.length, counts: overallCounts, ...ratesOf(overallCounts) };

  const groups: GroupRates[] = grouping.groups.map((g) => {
    const counts = countConfusion(labels.yTrue, labels.yPred, g.rows);
    const status = statusOf(g.rows.length, minGroupSize);
    const rates: Rates =
      status === "ok"
        ? ratesOf(counts)
        : { selectionRate: null, successRate: null, truePositiveRate: null, falsePositiveRate: null };
    return { key: g.key, values: g.values, n: g.rows.length, status, counts, ...rates };
  });
  const eligible = groups.filter((g) => g.status === "ok");
  const disparities = Object.fromEntries(
    RATE_NAMES.map((rate) => [
      rate,
      disparityOf(
        eligible.map((g) => ({ key: g.key, value: g[rate] })),
        overall[rate],
        method,
      ),
    ]),
  ) as Record<RateName, Disparity>;
  const tpr = disparities.truePositiveRate;
  const fpr = disparities.falsePositiveRate;
  const mean = (a: number, b: number) => (a + b) / 2;
  return {
    kind: "classification",
    attributes: grouping.attributes,
    method,
    agg,
    minGroupSize,
    n: labels.yTrue.length,
    unassigned: grouping.unassigned.length,
    overall,
    groups,
    excluded: excludedGroups(grouping.groups, minGroupSize),
    disparities,
    demographicParityDifference: disparities.selectionRate.difference,
    demographicParityRatio: disparities.selectionRate.ratio,
    equalizedOddsDifference: combine(tpr.difference, fpr.difference, agg === "mean" ? mean : Math.max),
    equalizedOddsRatio: combine(tpr.ratio, fpr.ratio, agg === "mean" ? mean : Math.min),
    equalOpportunityDifference: tpr.difference,
    equalOpportunityRatio: tpr.ratio,
  };
}

/** Fairlearn `demographic_parity_difference`: max − min selection rate (or to overall). */
export function demographicParityDifference(
  yTrue: BinaryLabels,
  yPred: BinaryLabels,
  options: FairnessOptions,
): number | null {
  return fairnessReport(yTrue, yPred, options).demographicParityDifference;
}

/** Fairlearn `demographic_parity_ratio`: min / max selection rate (or to overall). */
export function demographicParityRatio(
  yTrue: BinaryLabels,
  yPred: BinaryLabels,
  options: FairnessOptions,
): number | null {
  return fairnessReport(yTrue, yPred, options).demographicParityRatio;
}

/** Fairlearn `equalized_odds_difference`: the larger of the TPR and FPR differences. */
export function equalizedOddsDifference(
  yTrue: BinaryLabels,
  yPred: BinaryLabels,
  options: FairnessOptions,
): number | null {
  return fairnessReport(yTrue, yPred, options).equalizedOddsDifference;
}

/** Fairlearn `equalized_odds_ratio`: the smaller of the TPR and FPR ratios. */
export function equalizedOddsRatio(
  yTrue: BinaryLabels,
  yPred: BinaryLabels,
  options: FairnessOptions,
): number | null {
  return fairnessReport(yTrue, yPred, options).equalizedOddsRatio;
}

/** Fairlearn `equal_opportunity_difference`: max − min true-positive rate. */
export function equalOpportunityDifference(
  yTrue: BinaryLabels,
  yPred: BinaryLabels,
  options: FairnessOptions,
): number | null {
  return fairnessReport(yTrue, yPred, options).equalOpportunityDifference;
}

/** Fairlearn `equal_opportunity_ratio`: min / max true-positive rate. */
export function equalOpportunityRatio(
  yTrue: BinaryLabels,
  yPred: BinaryLabels,
  options: FairnessOptions,
): number | null {
  return fairnessReport(yTrue, yPred, options).equalOpportunityRatio;
}
