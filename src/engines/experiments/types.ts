/** The shapes of A/B results: what an experiment's arms did, and what the analysis answers. */

import type { SequentialResult } from "../stats/index.ts";

/** One arm's totals since the experiment started. `arms[0]` of the input is the control. */
export interface ArmInput {
  name: string;
  version: string;
  /** Configured share of traffic, on any positive scale (normalised over the arms). */
  weight: number;
  /** Distinct assignment units (users, sessions) seen; the SRM check counts these, else requests. */
  units?: number;
  requests: number;
  /** Failed requests (provider error, timeout, 5xx). */
  errors: number;
  /** Outcome feedback received, and how much of it reported success. */
  feedbackCount: number;
  successes: number;
  /** Quality scores from feedback; absent means none. */
  scoreCount?: number;
  scoreSum?: number;
  scoreSumSquares?: number;
  /** Total cost in USD. */
  costUsd: number;
  /** Sum of each request's cost squared (the cost guardrail's variance). */
  costSumSquares?: number;
  latencyP95Ms: number | null;
  /** Latency histogram as the rollout judge reads it (`latencyBucket`); the latency guardrail's input. */
  latencyHistogram?: number[];
}

/** Metrics compared between arms: success rate (higher is better), error rate (lower), mean score (higher). */
export type ExperimentMetric = "success_rate" | "error_rate" | "score_mean";

/**
 * A limit a treatment must hold; a breach stops the experiment at once. Breached means shown
 * by a sequential test (the rollout judge's), valid at every look: above `max` and above the
 * control for errors; more than 5% of requests slower than the limit for p95 latency; the
 * mean above the limit for cost.
 */
export type Guardrail =
  | {
      metric: "error_rate";
      max: number;
      /** Old experiments: "one_sided" means the same; the test is always sequential. */
      bound?: "one_sided";
      alpha?: number;
      minRequests?: number;
    }
  | {
      metric: "latency_p95_ms" | "cost_per_request_usd";
      max?: number;
      /** Relative to the control: 0.2 allows +20%. */
      maxRelativeIncrease?: number;
      alpha?: number;
      minRequests?: number;
    };

export interface ExperimentInput {
  /** The arms; the first is the control. */
  arms: ArmInput[];
  primary: "success_rate" | "score_mean";
  secondary?: ExperimentMetric[];
  guardrails?: Guardrail[];
  /** Primary-metric observations (feedback, or scores) each arm needs before a decision (default 100). */
  minSamplePerArm?: number;
  /** Minimum running time before a decision; compared with `elapsedMs`. */
  minDurationMs?: number;
  elapsedMs?: number;
  /** Two-sided error rate of the tests and 1 - confidence of the intervals (default 0.05). */
  alpha?: number;
  /**
   * The planned horizon, fixed before the experiment starts: it tunes the sequential test's
   * mixing variance and is the sample at which "no difference" is declared. `baselineRate`
   * (default 0.5) or `scoreVariance` (required for score_mean) is the expected per-unit
   * variance of the primary metric.
   */
  plan: { samplePerArm: number; baselineRate?: number; scoreVariance?: number };
  /** The previous look's sequential result per treatment arm, to carry the running p and interval. */
  previousLooks?: Record<string, SequentialResult>;
  /** Correction across the secondary comparisons (default "holm"). */
  multipleTesting?: "holm" | "benjamini-hochberg";
  /** SRM p-value below which the split is flagged (default 0.001). */
  srmThreshold?: number;
  /** A winner costing more than this relative increase per successful outcome is not shipped. */
  maxCostIncrease?: number;
}

export interface ArmResult {
  name: string;
  version: string;
  /** Normalised configured share, 0..1. */
  weight: number;
  units: number;
  requests: number;
  errors: number;
  feedbackCount: number;
  successes: number;
  successRate: number | null;
  errorRate: number | null;
  scoreMean: number | null;
  costUsd: number;
  costPerRequestUsd: number | null;
  /** Cost per request / success rate: what one successful outcome costs. */
  costPerSuccessUsd: number | null;
  latencyP95Ms: number | null;
}

export type Direction = "better" | "worse" | "none";

/** A treatment against the control on one metric (fixed-horizon statistics). */
export interface Comparison {
  arm: string;
  metric: ExperimentMetric;
  control: number | null;
  treatment: number | null;
  /**
   * Relative lift treatment/control - 1. Its interval is the always-valid one (safe to read at
   * any look) before the planned horizon, the fixed-horizon delta-method one from it on;
   * `ciKind` says which. Null when undefined.
   */
  lift: {
    estimate: number;
    ci: [number, number];
    se: number;
    ciKind: "always_valid" | "fixed_horizon";
  } | null;
  /**
   * Two-proportion z (pooled) or Welch t two-sided p-value: valid at the planned horizon only,
   * so null before it (see `ExperimentResults.horizon`).
   */
  pValue: number | null;
  /** The always-valid (mSPRT) p-value: valid at every look. */
  sequentialP: number | null;
  /** The always-valid p after the correction across comparisons; significance is read from it. */
  adjustedP: number | null;
  significant: boolean;
  direction: Direction;
  /** Why a statistic is missing. */
  note: string | null;
}

/** The primary comparison adds the peeking-safe test and, for rates, the Bayesian view. */
export interface PrimaryComparison extends Comparison {
  /** Always-valid (mSPRT) look on the absolute difference; `adjustedP` is its Holm-adjusted p. */
  sequential: SequentialResult | null;
  /** P(treatment rate > control rate), beta-binomial with a uniform prior; null for scores. */
  chanceToBeatControl: number | null;
}

export type GuardrailStatus = "ok" | "at_risk" | "breached" | "insufficient_data";

export interface GuardrailResult {
  metric: Guardrail["metric"];
  arm: string;
  status: GuardrailStatus;
  value: number | null;
  limit: number | null;
  reason: string;
  /** The sequential test's numbers. */
  numbers?: Record<string, unknown>;
}

/** Where the experiment stands against its planned horizon, and which numbers are valid to read now. */
export interface Horizon {
  samplePerArm: number;
  /** The least primary-metric sample of any arm. */
  observedPerArm: number;
  reached: boolean;
  /** In words: what may be read now. */
  note: string;
}

export interface SrmCheck {
  status: "ok" | "mismatch" | "insufficient_data";
  unit: "units" | "requests";
  observed: number[];
  expected: number[];
  chiSquare: number | null;
  p: number | null;
  threshold: number;
}

export type Decision =
  | "ship"
  | "keep_running"
  | "no_difference"
  | "stopped_by_guardrail"
  | "sample_ratio_mismatch";

export interface Recommendation {
  decision: Decision;
  /** The arm to ship (ship), to stop (stopped_by_guardrail) or the cheapest equal arm (no_difference). */
  arm: string | null;
  reasons: string[];
}

export interface ExperimentResults {
  control: string;
  arms: ArmResult[];
  primary: PrimaryComparison[];
  secondary: Comparison[];
  guardrails: GuardrailResult[];
  srm: SrmCheck;
  /** False on a sample ratio mismatch: the split is broken and no arm may be shipped on these numbers. */
  trustworthy: boolean;
  /** The minimum sample and duration are met. */
  minimumMet: boolean;
  horizon: Horizon;
  recommendation: Recommendation;
}
