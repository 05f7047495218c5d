// The shapes a monitoring rule works on: the rule, a window's sums (what the request log's
// roll-ups give for one version over one window), and a window's verdict.

export const RATE_METRICS = ["successRate", "errorRate", "refusalRate", "validityRate"] as const;
export const MEAN_METRICS = ["meanScore", "costPerCall"] as const;
export const LATENCY_METRICS = ["latencyP50", "latencyP95"] as const;
/** Mean tokens per call: input, output, and the two together. */
export const TOKEN_METRICS = ["inputTokensPerCall", "outputTokensPerCall", "tokensPerCall"] as const;
export const METRICS = [
  ...RATE_METRICS,
  ...MEAN_METRICS,
  "costPerSuccess",
  ...LATENCY_METRICS,
  ...TOKEN_METRICS,
] as const;
export type MetricName = (typeof METRICS)[number];

export const DRIFT_STATISTICS = ["psi", "jensenShannon", "hellinger", "lInfinity", "ks"] as const;
export type DriftStatistic = (typeof DRIFT_STATISTICS)[number];

interface RuleBase {
  /** A name unique within the model's monitor (used in history, alerts, metrics). */
  name: string;
  /** The rule as written, when it was given in words. */
  text?: string;
  /** Consecutive breaching windows that make the rule fire. */
  windows: number;
  /** Length of one window in hours (24: a UTC day). */
  windowHours: number;
  /** One-sided level of each window's test. */
  alpha: number;
  /** A window (and the baseline) needs at least this many observations to be judged. */
  minSample: number;
}

export interface MetricRule extends RuleBase {
  kind: "metric";
  metric: MetricName;
  /** Which way is worse: success drops, errors rise. */
  direction: "drop" | "rise";
  /** How far past the baseline counts as a breach. */
  change: number;
  /** `relative` (10% of the baseline), `absolute` (10 points of a rate, 200 ms of latency). */
  changeKind: "relative" | "absolute";
  /**
   * Only the judged requests of one group (success rate only: the group roll-ups hold each
   * set of groups' judged and successful requests): `{ attribute: "region", value: "eu" }`.
   */
  group?: { attribute: string; value: string };
}

export interface DriftRule extends RuleBase {
  kind: "drift";
  /** A feature of the request log's feature roll-up (`tokens_in`, `script`, `group:region`). */
  feature: string;
  statistic: DriftStatistic;
  /** The statistic must exceed it (and the difference be significant at `alpha`). */
  threshold: number;
}

export interface BiasRule extends RuleBase {
  kind: "bias";
}

export type MonitorRule = MetricRule | DriftRule | BiasRule;

/** One version's sums over one window (or over the baseline window). */
export interface MetricSums {
  requests: number;
  errors: number;
  costUsd: number;
  costSumSquares: number;
  /** latencyHistogram[b]: requests in latency bucket b (src/engines/rollout/latency.ts). */
  latencyHistogram: readonly number[];
  feedbackCount: number;
  successes: number;
  scoreCount: number;
  scoreSum: number;
  scoreSumSquares: number;
  refusals: number;
  validityChecked: number;
  valid: number;
  /** Tokens in and out, summed over the requests. */
  tokensIn: number;
  tokensOut: number;
  /**
   * The requests' token counts binned (the feature roll-up's `tokens_in` and `tokens_out`): the
   * token metrics' variance comes from them. Absent where features are not recorded.
   */
  tokenHistograms?: { in: Histogram; out: Histogram };
}

/** Bin -> count, for one feature. */
export type Histogram = Readonly<Record<string, number>>;

export type WindowStatus = "breach" | "ok" | "insufficient";

export interface WindowVerdict {
  status: WindowStatus;
  /** The window's value of the metric or statistic; null when it has no data. */
  value: number | null;
  /** The baseline's value (metric rules); null for drift rules. */
  baseline: number | null;
  /** The value past which the window breaches (metric: from the baseline and the change). */
  threshold: number | null;
  /** Observations in the window (the metric's denominator). */
  n: number;
  /** The test's one-sided p-value (small: evidence of a breach). */
  p: number | null;
  /** Why, in one sentence. */
  reason: string;
}
