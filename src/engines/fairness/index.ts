/**
 * modelgov/fairness: pure fairness metrics. Plain data in, plain data out; no I/O.
 *
 * Fairlearn's between-groups definitions (per-group rates, demographic parity, equalized
 * odds, equal opportunity, a MetricFrame-like breakdown), AIF360's privileged/unprivileged
 * variants, outcome-based success by group, seeded bootstrap intervals and a threshold
 * verdict. Invalid input throws a RangeError naming the argument. See docs/fairness.md.
 *
 * @packageDocumentation
 */

export type {
  /** How to resample: `iterations` (2000), `confidence` (0.95), `seed` (1). */
  BootstrapOptions,
  /** Options of {@link bootstrapRates}: grouping, resampling and `metric` (default "selectionRate"). */
  BootstrapRatesOptions,
  /** Intervals per compared group and for the between-groups difference and ratio. */
  BootstrapReport,
  /** A point estimate and its percentile interval, with the number of replicates behind it. */
  Interval,
} from "./bootstrap.ts";
export {
  /** Seeded percentile bootstrap intervals for a per-group rate of predictions and for its difference and ratio. */
  bootstrapRates,
  /** Seeded percentile bootstrap intervals for per-group success rates and for the gap between groups. */
  bootstrapSuccess,
} from "./bootstrap.ts";
export type {
  /** A metric's spread across groups: difference, ratio, min and max groups, compared and undefined groups. */
  Disparity,
  /** Fairlearn's `method`: "between_groups" (default) or "to_overall". */
  DisparityMethod,
  /** One group's value of a metric. */
  GroupValue,
} from "./compare.ts";
export type {
  /** Fairlearn's `agg` for equalized odds: "worst_case" (default) or "mean". */
  EqualizedOddsAgg,
  /** Options of {@link fairnessReport} and the scalar functions: grouping, `method`, `agg`. */
  FairnessOptions,
  /** Per-group counts and rates and every Fairlearn disparity, with the excluded groups named. */
  FairnessReport,
  /** One group's counts, rates and status. */
  GroupRates,
} from "./disparity.ts";
export {
  /** Fairlearn `demographic_parity_difference`: max − min selection rate. */
  demographicParityDifference,
  /** Fairlearn `demographic_parity_ratio`: min / max selection rate. */
  demographicParityRatio,
  /** Fairlearn `equalized_odds_difference`: the larger of the TPR and FPR differences. */
  equalizedOddsDifference,
  /** Fairlearn `equalized_odds_ratio`: the smaller of the TPR and FPR ratios. */
  equalizedOddsRatio,
  /** Fairlearn `equal_opportunity_difference`: max − min true-positive rate. */
  equalOpportunityDifference,
  /** Fairlearn `equal_opportunity_ratio`: min / max true-positive rate. */
  equalOpportunityRatio,
  /** Every per-group rate and every Fairlearn disparity of binary predictions, in one report. */
  fairnessReport,
} from "./disparity.ts";
export type {
  /** A group left out of the comparisons, with its size and the reason. */
  ExcludedGroup,
  /** One value of a sensitive attribute; null or undefined leaves the row unassigned. */
  FeatureValue,
  /** Options shared by every grouped computation: features, attributes to intersect, minimum group size. */
  GroupingOptions,
  /** An AIF360-style selector: a group key, a record of attribute values, or a list of those. */
  GroupSelector,
  /** "ok" (compared) or "insufficient" (below the minimum group size). */
  GroupStatus,
  /** Sensitive features: one value per row, columns by attribute, or one record per row. */
  SensitiveFeatures,
} from "./groups.ts";
export type {
  /** A group, its size and its status. */
  GroupInfo,
  /** One metric per group and overall, with group min/max, difference and ratio by both methods. */
  MetricBreakdown,
  /** Result of {@link metricFrame}. */
  MetricFrame,
  /** Input of {@link metricFrame}. */
  MetricFrameInput,
} from "./metric-frame.ts";
export {
  /** Fairlearn `MetricFrame`: any metric per group and overall, and how far apart the groups are. */
  metricFrame,
} from "./metric-frame.ts";
export type {
  /** Confusion counts: tp, fp, tn, fn. */
  ConfusionCounts,
  /** A metric on the rows of one group, called as `metric(yTrue, yPred)`; null when undefined. */
  GroupMetric,
  /** The name of a per-group rate. */
  RateName,
  /** Selection rate, success rate (accuracy), true- and false-positive rates. */
  Rates,
} from "./metrics.ts";
export {
  /** Accuracy: share of predictions equal to the truth. */
  accuracy,
  /** Fairlearn `count`: rows in the group. */
  count,
  /** Fairlearn `false_negative_rate`; null without actual positives. */
  falseNegativeRate,
  /** Fairlearn `false_positive_rate`; null without actual negatives. */
  falsePositiveRate,
  /** Fairlearn `mean_prediction`: mean of `yPred` (any numbers). */
  meanPrediction,
  /** The names of the per-group rates: selectionRate, successRate, truePositiveRate, falsePositiveRate. */
  RATE_NAMES,
  /** Fairlearn `selection_rate`: share of predictions equal to 1. */
  selectionRate,
  /** Fairlearn `true_positive_rate`; null without actual positives. */
  truePositiveRate,
} from "./metrics.ts";
export type {
  /** One side of a named comparison, its groups pooled. */
  Pool,
  /** AIF360's metrics of the unprivileged side against the privileged side. */
  PrivilegedComparison,
  /** Which groups are privileged and which unprivileged. */
  PrivilegedGroups,
} from "./privileged.ts";
export {
  /** AIF360 statistical parity difference, disparate impact, equal opportunity and average odds differences. */
  privilegedComparison,
} from "./privileged.ts";
export {
  /** A seeded generator of floats in [0, 1) (xoshiro128**, seeded by splitmix32). */
  seededRandom,
  /** xoshiro128** over an explicit 128-bit state, giving unsigned 32-bit integers. */
  xoshiro128StarStar,
} from "./random.ts";
export type {
  /** One group's successes, rate and status. */
  SuccessGroup,
  /** Options of {@link successByGroup}. */
  SuccessOptions,
  /** Success per group from outcomes, and the largest gap between groups. */
  SuccessReport,
} from "./success.ts";
export {
  /** Success rate per group from one success flag per row (no predictions), and the largest gap in points. */
  successByGroup,
} from "./success.ts";
export type {
  /** Binary labels: 0/1 or booleans, one per row. */
  BinaryLabels,
} from "./validate.ts";
export type {
  /** One threshold held against one measured value. */
  FairnessCheck,
  /** The name of a metric a policy can check. */
  FairnessMetricName,
  /** Thresholds: `maxGapPoints`, `minRatio`, optional `privileged`/`unprivileged` and `metrics`. */
  FairnessPolicy,
  /** `{ pass, reasons, checks }`: whether every check passed, with the numbers in words. */
  FairnessVerdict,
} from "./verdict.ts";
export {
  /** The metrics a policy can check: demographicParity, equalOpportunity, equalizedOdds, successRate. */
  FAIRNESS_METRICS,
  /** Holds a report to a policy and returns a verdict with reasons. */
  fairnessVerdict,
} from "./verdict.ts";
