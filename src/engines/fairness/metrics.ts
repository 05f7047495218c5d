/**
 * Per-group base metrics on binary labels: confusion counts and the rates derived from them.
 * A rate whose denominator is zero is null ("undefined"), never 0: a group with no actual
 * positives has no true-positive rate to compare. (Fairlearn, through scikit-learn's
 * normalised confusion matrix, reports 0 there.)
 */
import { type BinaryLabels, sameLength, toBinary } from "./validate.ts";

/** Confusion counts of binary predictions against binary truth. */
export interface ConfusionCounts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** The rates Fairlearn's between-groups definitions are built on. */
export interface Rates {
  /** P(ŷ=1): Fairlearn `selection_rate`. */
  selectionRate: number | null;
  /** P(ŷ=y): accuracy, the success rate of the predictions. */
  successRate: number | null;
  /** P(ŷ=1 | y=1): Fairlearn `true_positive_rate` (recall). Null without actual positives. */
  truePositiveRate: number | null;
  /** P(ŷ=1 | y=0): Fairlearn `false_positive_rate`. Null without actual negatives. */
  falsePositiveRate: number | null;
}

/** The names of the per-group rates, in report order. */
export const RATE_NAMES = ["selectionRate", "successRate", "truePositiveRate", "falsePositiveRate"] as const;
/** The name of one of the per-group rates. */
export type RateName = (typeof RATE_NAMES)[number];

/** num / den, or null when den is 0. */
export const ratio = (num: number, den: number): number | null => (den === 0 ? null : num / den);

/** Counts over the given rows (all rows when `rows` is omitted). */
export function countConfusion(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  rows?: readonly number[],
): ConfusionCounts {
  const c: ConfusionCounts = { tp: 0, fp: 0, tn: 0, fn: 0 };
  const n = rows ? rows.length : yTrue.length;
  for (let k = 0; k < n; k++) {
    const i = rows ? rows[k]! : k;
    if (yPred[i] === 1) {
      if (yTrue[i] === 1) c.tp++;
      else c.fp++;
    } else if (yTrue[i] === 1) c.fn++;
    else c.tn++;
  }
  return c;
}

/** The four rates of a set of confusion counts. */
export function ratesOf(c: ConfusionCounts): Rates {
  const n = c.tp + c.fp + c.tn + c.fn;
  return {
    selectionRate: ratio(c.tp + c.fp, n),
    successRate: ratio(c.tp + c.tn, n),
    truePositiveRate: ratio(c.tp, c.tp + c.fn),
    falsePositiveRate: ratio(c.fp, c.fp + c.tn),
  };
}

/**
 * A metric computed on the rows of one group (or on all rows, for `overall`), as Fairlearn's
 * MetricFrame calls `metric(y_true, y_pred)`. Return null when the metric is undefined.
 */
export type GroupMetric = (yTrue: readonly number[], yPred: readonly number[]) => number | null;

function binaryPair(yTrue: readonly number[], yPred: readonly number[]): ConfusionCounts {
  sameLength("yTrue", yTrue.length, "yPred", yPred.length);
  return countConfusion(toBinary("yTrue", yTrue), toBinary("yPred", yPred));
}

/** Fairlearn `selection_rate`: share of predictions equal to 1. `yTrue` is ignored. */
export const selectionRate: GroupMetric = (_yTrue, yPred) => {
  const p = toBinary("yPred", yPred);
  return p.reduce((s, v) => s + v, 0) / p.length;
};
/** scikit-learn `accuracy_score`: share of predictions equal to the truth. */
export const accuracy: GroupMetric = (yTrue, yPred) => ratesOf(binaryPair(yTrue, yPred)).successRate;
/** Fairlearn `true_positive_rate`, null when the rows hold no actual positive. */
export const truePositiveRate: GroupMetric = (yTrue, yPred) =>
  ratesOf(binaryPair(yTrue, yPred)).truePositiveRate;
/** Fairlearn `false_positive_rate`, null when the rows hold no actual negative. */
export const falsePositiveRate: GroupMetric = (yTrue, yPred) =>
  ratesOf(binaryPair(yTrue, yPred)).falsePositiveRate;
/** Fairlearn `false_negative_rate`, null when the rows hold no actual positive. */
export const falseNegativeRate: GroupMetric = (yTrue, yPred) => {
  const c = binaryPair(yTrue, yPred);
  return ratio(c.fn, c.tp + c.fn);
};
/** Fairlearn `count`: number of rows. */
export const count: GroupMetric = (yTrue) => yTrue.length;
/** Fairlearn `mean_prediction`: mean of `yPred` (any numbers, e.g. scores or latencies). */
export const meanPrediction: GroupMetric = (_yTrue, yPred) =>
  yPred.length === 0 ? null : yPred.reduce((s, v) => s + v, 0) / yPred.length;

/** Checks labels and turns them into 0/1 arrays of equal length. */
export function binaryInputs(
  yTrue: BinaryLabels,
  yPred: BinaryLabels,
): { yTrue: Uint8Array; yPred: Uint8Array } {
  const t = toBinary("yTrue", yTrue);
  const p = toBinary("yPred", yPred);
  sameLength("yTrue", t.length, "yPred", p.length);
  return { yTrue: t, yPred: p };
}
