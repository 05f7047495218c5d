/**
 * Percentile bootstrap confidence intervals for per-group rates and for the between-groups
 * difference and ratio. Rows are resampled with replacement within each group (a stratified
 * bootstrap): group sizes stay as observed, so no group vanishes from a replicate. The PRNG is
 * seeded, so the same data and seed give the same interval everywhere.
 */
import { type ExcludedGroup, excludedGroups, type GroupingOptions, groupRows } from "./groups.ts";
import { binaryInputs, RATE_NAMES, type RateName } from "./metrics.ts";
import { seededRandom } from "./random.ts";
import { type BinaryLabels, minGroupSizeOf, toBinary } from "./validate.ts";

/** How to resample: number of replicates, confidence level and PRNG seed. */
export interface BootstrapOptions {
  /** Resamples to draw. Default 2000. */
  iterations?: number;
  /** Two-sided confidence level in (0, 1). Default 0.95. */
  confidence?: number;
  /** Integer seed of the PRNG. Default 1. */
  seed?: number;
}

/** A point estimate on the data and its percentile interval over the replicates where it is defined. */
export interface Interval {
  estimate: number | null;
  lower: number | null;
  upper: number | null;
  /** Replicates in which the statistic was defined (≤ iterations). */
  replicates: number;
}

/** Intervals per compared group and for the between-groups difference and ratio of one rate. */
export interface BootstrapReport {
  metric: RateName;
  attributes: string[];
  iterations: number;
  confidence: number;
  seed: number;
  minGroupSize: number;
  /** Intervals of the compared groups (those with at least `minGroupSize` rows). */
  groups: Array<Interval & { key: string; n: number }>;
  excluded: ExcludedGroup[];
  /** max − min of the group rates; null estimate with fewer than two groups. */
  difference: Interval;
  /** min / max of the group rates. */
  ratio: Interval;
}

/** Type 7 (linear) quantile of sorted values, as numpy's and R's default. */
export function quantileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError("quantile of no values");
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

function interval(estimate: number | null, samples: number[], confidence: number): Interval {
  if (samples.length === 0) return { estimate, lower: null, upper: null, replicates: 0 };
  samples.sort((a, b) => a - b);
  const alpha = 1 - confidence;
  return {
    estimate,
    lower: quantileSorted(samples, alpha / 2),
    upper: quantileSorted(samples, 1 - alpha / 2),
    replicates: samples.length,
  };
}

function checkOptions(o: BootstrapOptions): Required<BootstrapOptions> {
  const iterations = o.iterations ?? 2000;
  const confidence = o.confidence ?? 0.95;
  const seed = o.seed ?? 1;
  if (!Number.isSafeInteger(iterations) || iterations < 1)
    throw new RangeError(`options.iterations must be an integer >= 1, got ${iterations}`);
  if (!(confidence > 0 && confidence < 1))
    throw new RangeError(`options.confidence must be between 0 and 1, got ${confidence}`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`options.seed must be an integer, got ${seed}`);
  return { iterations, confidence, seed };
}

/** Each rate is num/den over rows: these flags say which rows count in each. */
function rateFlags(metric: RateName, t: Uint8Array, p: Uint8Array): { num: Uint8Array; den: Uint8Array } {
  const n = t.length;
  const num = new Uint8Array(n);
  const den = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const y = t[i]!;
    const yhat = p[i]!;
    if (metric === "selectionRate" || metric === "successRate") den[i] = 1;
    else den[i] = metric === "truePositiveRate" ? y : 1 - y;
    num[i] = metric === "successRate" ? (y === yhat ? 1 : 0) : den[i]! & yhat;
  }
  return { num, den };
}

function run(
  metric: RateName,
  num: Uint8Array,
  den: Uint8Array,
  options: GroupingOptions & BootstrapOptions,
  lengthName: string,
): BootstrapReport {
  if (!options) throw new RangeError("options is required (options.sensitiveFeatures)");
  const { iterations, confidence, seed } = checkOptions(options);
  const minGroupSize = minGroupSizeOf(options.minGroupSize);
  const grouping = groupRows(options.sensitiveFeatures, num.length, options.attributes, lengthName);
  const eligible = grouping.groups.filter((g) => g.rows.length >= minGroupSize);

  const rateOf = (rows: ArrayLike<number>): number | null => {
    let a = 0;
    let b = 0;
    for (let k = 0; k < rows.length; k++) {
      const i = rows[k]!;
      a += num[i]!;
      b += den[i]!;
    }
    return b === 0 ? null : a / b;
  };
  const spread = (values: ReadonlyArray<number | null>) => {
    if (values.length < 2 || values.some((v) => v === null)) return { difference: null, ratio: null };
    const vs = values as number[];
    const lo = Math.min(...vs);
    const hi = Math.max(...vs);
    return { difference: hi - lo, ratio: hi === 0 ? null : lo / hi };
  };

  const estimates = eligible.map((g) => rateOf(g.rows));
  const point = spread(estimates);
  const random = seededRandom(seed);
  const groupSamples: number[][] = eligible.map(() => []);
  const differences: number[] = [];
  const ratios: number[] = [];
  const values: Array<number | null> = new Array(eligible.length);
  const drawn = new Uint32Array(Math.max(0, ...eligible.map((g) => g.rows.length)));
  for (let r = 0; r < iterations; r++) {
    eligible.forEach((g, j) => {
      const size = g.rows.length;
      for (let k = 0; k < size; k++) drawn[k] = g.rows[Math.floor(random() * size)]!;
      const v = rateOf(drawn.subarray(0, size));
      values[j] = v;
      if (v !== null) groupSamples[j]!.push(v);
    });
    const s = spread(values);
    if (s.difference !== null) differences.push(s.difference);
    if (s.ratio !== null) ratios.push(s.ratio);
  }
  return {
    metric,
    attributes: grouping.attributes,
    iterations,
    confidence,
    seed,
    minGroupSize,
    groups: eligible.map((g, j) => ({
      key: g.key,
      n: g.rows.length,
      ...interval(estimates[j]!, groupSamples[j]!, confidence),
    })),
    excluded: excludedGroups(grouping.groups, minGroupSize),
    difference: interval(point.difference, eligible.length < 2 ? [] : differences, confidence),
    ratio: interval(point.ratio, eligible.length < 2 ? [] : ratios, confidence),
  };
}

/** Options of {@link bootstrapRates}: grouping, resampling and the rate to resample. */
export interface BootstrapRatesOptions extends GroupingOptions, BootstrapOptions {
  /** The rate to resample. Default "selectionRate" (demographic parity). */
  metric?: RateName;
}

/** Bootstrap intervals for one per-group rate of binary predictions and for its between-groups spread. */
export function bootstrapRates(
  yTrue: BinaryLabels,
  yPred: BinaryLabels,
  options: BootstrapRatesOptions,
): BootstrapReport {
  const labels = binaryInputs(yTrue, yPred);
  const metric = options?.metric ?? "selectionRate";
  if (!RATE_NAMES.includes(metric))
    throw new RangeError(
      `options.metric must be one of ${RATE_NAMES.join(", ")}, got ${JSON.stringify(metric)}`,
    );
  const { num, den } = rateFlags(metric, labels.yTrue, labels.yPred);
  return run(metric, num, den, options, "yTrue");
}

/** Bootstrap intervals for the per-group success rate of outcomes and for the gap between groups. */
export function bootstrapSuccess(
  success: BinaryLabels,
  options: GroupingOptions & BootstrapOptions,
): BootstrapReport {
  const outcome = toBinary("success", success);
  return run("successRate", outcome, new Uint8Array(outcome.length).fill(1), options, "success");
}
