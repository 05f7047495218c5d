/**
 * The shapes of the canary judge: what a plan's analysis asks for, what one analysis window
 * holds for a version, and what the judge and the step machine answer.
 */

/** Success (feedback) counts of one group, e.g. `region=eu`. */
export interface GroupCounts {
  successes: number;
  n: number;
}

/**
 * What one version did over one analysis window. Success rate is `successes / feedbackCount`
 * (outcome feedback joined to the version's requests), error rate is `errors / requests`.
 */
export interface VersionWindow {
  /** Requests this version answered in the window. */
  requests: number;
  /** Of those, requests that failed (provider error, timeout, 5xx). */
  errors: number;
  /** Feedback received for the window's requests. */
  feedbackCount: number;
  /** Feedback that reported success. */
  successes: number;
  /** p95 of the request latency in ms; null with no request. */
  latencyP95Ms: number | null;
  /** Total cost of the window's requests in USD. */
  costUsd: number;
  /** Sum of each request's cost squared, for the cost test's variance. */
  costSumSquares?: number;
  /**
   * Request latency histogram: `latencyHistogram[b]` counts requests whose latency in ms is in
   * [2^(b/16), 2^((b+1)/16)) (bucket 0 also takes everything under 1 ms). See `latencyBucket`.
   */
  latencyHistogram?: number[];
  /** Quality scores reported with feedback; all three absent means none. */
  scoreCount?: number;
  scoreSum?: number;
  scoreSumSquares?: number;
  /** Feedback successes by attribute, then by value: `{ region: { eu: { successes, n } } }`. */
  groups?: Record<string, Record<string, GroupCounts>>;
  /** Mirrored (shadow) traffic: answers compared with the served ones, and how many agreed. */
  agreementCompared?: number;
  agreed?: number;
}

/** Options every metric can carry. */
interface MetricBase {
  /** Minimum sample (feedback or requests, per arm) before judging; default the step's minimum. */
  minSample?: number;
  /**
   * One-sided error rate of the metric's test over the whole rollout, every look included;
   * default the plan's `alpha`. It is spent across the steps as the plan's `alphaByStep` says.
   */
  alpha?: number;
  /** A failure rolls back at once instead of counting toward `failureLimit` (default: true for error_rate only). */
  immediateRollback?: boolean;
}

/**
 * Candidate success rate not worse than the baseline's by more than the margin: exactly one of
 * `maxRelativeDrop` (0.05 = 5% of the baseline's rate) or `maxDropPoints` (5 = 5 percentage
 * points); and/or a floor `min` (0.8: never below 80%, unless the baseline is below it too).
 */
export interface SuccessRateMetric extends MetricBase {
  kind: "success_rate";
  maxRelativeDrop?: number;
  maxDropPoints?: number;
  min?: number;
}

/** Candidate mean score not worse than the baseline's by more than `maxRelativeDrop` or `maxDrop` (score units). */
export interface ScoreMeanMetric extends MetricBase {
  kind: "score_mean";
  maxRelativeDrop?: number;
  maxDrop?: number;
}

/**
 * Candidate error rate at most `max` (0.01 = 1%): fails only on sequential evidence that the
 * rate is above both `max` and the baseline's concurrent rate. `bound` is accepted for old
 * plans and means the same.
 */
export interface ErrorRateMetric extends MetricBase {
  kind: "error_rate";
  max: number;
  bound?: "one_sided";
}

/**
 * Candidate p95 latency at most `max` ms and/or at most (1 + `maxRelativeIncrease`) × the
 * baseline's; tested as the share of candidate requests slower than the limit (at most 5%).
 */
export interface LatencyP95Metric extends MetricBase {
  kind: "latency_p95_ms";
  max?: number;
  maxRelativeIncrease?: number;
}

/** Candidate cost per request at most `max` USD and/or at most (1 + `maxRelativeIncrease`) × the baseline's. */
export interface CostPerRequestMetric extends MetricBase {
  kind: "cost_per_request_usd";
  max?: number;
  maxRelativeIncrease?: number;
}

/** The candidate's largest success-rate gap between groups of one attribute, in points. */
export interface GroupSuccessGapMetric extends MetricBase {
  kind: "group_success_gap";
  maxGapPoints: number;
  /** Groups with less feedback are reported as insufficient and left out of the gap (default 30). */
  minGroupSize?: number;
  /** Attributes to judge; default every attribute in the candidate's window. */
  attributes?: string[];
}

/** Blue-green / shadow: the candidate's answers to mirrored traffic agree with the served ones at least `min` of the time. */
export interface AgreementMetric extends MetricBase {
  kind: "agreement";
  min: number;
}

export type Metric =
  | AgreementMetric
  | SuccessRateMetric
  | ScoreMeanMetric
  | ErrorRateMetric
  | LatencyP95Metric
  | CostPerRequestMetric
  | GroupSuccessGapMetric;

export type MetricKind = Metric["kind"];

/** One step of a canary: the candidate's weight and how long it stays there at least. */
export interface Step {
  /** Candidate share of traffic in percent, (0, 100]. */
  weight: number;
  durationMs: number;
  /** A manual gate: once the step has passed, wait for a manual promote. */
  pause?: boolean;
  /** Overrides the plan's `minSamplePerArm` for this step. */
  minSamplePerArm?: number;
  /** Overrides the plan's `maxSamplePerArm` for this step. */
  maxSamplePerArm?: number;
  /** The longest the step waits for a conclusive verdict after `durationMs` (default 2 × durationMs). */
  maxDurationMs?: number;
}

/**
 * The fast path, checked every second without waiting for the analysis interval: the
 * candidate's breaker, every request of the last `windowMs` failing (at least `minRequests`
 * of them), and the error-rate test on the step so far.
 */
export interface FastPathConfig {
  windowMs: number;
  /** Requests the short window needs before "every request failed" rolls back; also the error test's least sample. */
  minRequests: number;
  /** The error-rate limit the fast path tests; default the error_rate metric's `max`. */
  maxErrorRate?: number;
}

/** What a step does with an inconclusive verdict once it reaches its maximum sample or duration. */
export type OnInconclusive = "advance" | "pause" | "rollback";

/** A rollout plan's steps and analysis. */
export interface Plan {
  name: string;
  steps: Step[];
  analysisIntervalMs: number;
  /** Requests per arm a step's window needs before its verdict can be anything but insufficient_data. */
  minSamplePerArm: number;
  /** Consecutive failed analyses that roll back (default 2). */
  failureLimit: number;
  /**
   * At a step's maximum sample or duration, an inconclusive verdict advances, pauses for a
   * person (default) or rolls back; it never holds for ever.
   */
  onInconclusive?: OnInconclusive;
  /** Old plans: true means `onInconclusive: "advance"`. */
  advanceOnInconclusive?: boolean;
  /** Requests per arm at which a step stops waiting for a conclusive verdict (default: none, the duration decides). */
  maxSamplePerArm?: number;
  /** Default one-sided alpha of the metrics over the whole rollout (0.05). */
  alpha?: number;
  /**
   * How each metric's alpha is split across the steps, one share per step summing to 1;
   * default 80% to the first step and the rest evenly (a single step takes it all).
   */
  alphaByStep?: number[];
  metrics: Metric[];
  fastPath: FastPathConfig;
}

export type MetricStatus = "pass" | "fail" | "inconclusive" | "insufficient_data";

/** The judgement of one metric: its status, the numbers behind it, and a sentence with them. */
export interface MetricResult {
  metric: MetricKind;
  status: MetricStatus;
  /** Whether a failure rolls back at once. */
  immediateRollback: boolean;
  numbers: Record<string, number | string | boolean | null | number[] | Record<string, unknown>[]>;
  reason: string;
}

export type StepVerdict = "pass" | "fail" | "inconclusive" | "insufficient_data";

export interface Judgement {
  verdict: StepVerdict;
  stepIndex: number;
  minSamplePerArm: number;
  /** The alpha this step's tests use (the metrics' alpha times the step's share). */
  alpha: number;
  /** Requests per arm in the judged windows. */
  samples: { baseline: number; candidate: number };
  metrics: MetricResult[];
  reasons: string[];
}

/** Where a rollout stands, as the step machine needs it. */
export interface RolloutState {
  plan: Plan;
  stepIndex: number;
  /** Epoch ms at which the current step began. */
  stepStartedAt: number;
  /** Failed analyses in a row before this one. */
  consecutiveFailures: number;
  /** Paused by an operator: analysis goes on (and can roll back) but nothing advances. */
  paused?: boolean;
  /** An operator promoted past the current step's manual gate. */
  gateApproved?: boolean;
}

export type Action = "advance" | "hold" | "promote" | "rollback" | "paused";

export interface Decision {
  action: Action;
  reasons: string[];
  /** Candidate weight in percent after the decision (0 on rollback, 100 on promote). */
  weight: number;
  /** The state to carry to the next analysis. */
  next: Omit<RolloutState, "plan">;
}

/** Requests and errors of one version over a window. */
export interface ErrorCounts {
  requests: number;
  errors: number;
}

/** What the fast path sees every second. */
export interface FastPathWindow {
  /** The candidate over the step so far (the error test's sample). */
  candidate: ErrorCounts;
  /** The baseline over the same span, or its reference window at a 100% step. */
  baseline?: ErrorCounts;
  /** Whether the baseline served alongside the candidate (false at a 100% step). */
  concurrent?: boolean;
  /** The candidate over the last `fastPath.windowMs`, for the every-request-failed check. */
  recent?: ErrorCounts;
  breaker?: "closed" | "half_open" | "open";
}

export interface FastPathResult {
  rollback: boolean;
  reason: string;
  errorRate: number | null;
  /** The error test's numbers when it ran. */
  test?: Record<string, number | boolean | null>;
}
