/**
 * The canary judge: pure functions that judge a rollout step from per-version window metrics,
 * decide what the rollout does next, and check the fast path. Plain data in, plain data out;
 * no I/O. See docs/rollouts-analysis.md.
 *
 * @packageDocumentation
 */

export { judgeAgreement } from "./agreement.ts";
export { defaultAlphaByStep, FIRST_STEP_ALPHA_SHARE, stepAlphaShare } from "./alpha.ts";
export { decide, fastPath, fastPathLimit, onInconclusiveOf, stepMaxDurationMs } from "./decide.ts";
export { type ErrorTest, errorRateTest } from "./error-test.ts";
export { fmtDuration, fmtP, num, pct, signedPct, usd } from "./format.ts";
export { DEFAULT_MIN_GROUP_SIZE } from "./guards.ts";
export { checkWindow, DEFAULT_ALPHA, type JudgeOptions, judge } from "./judge.ts";
export {
  histogramCountAbove,
  histogramQuantile,
  LATENCY_BUCKETS_PER_DOUBLING,
  LATENCY_MAX_BUCKET,
  latencyBucket,
} from "./latency.ts";
export {
  BUILT_IN_PLANS,
  blueGreenPlan,
  defaultPlan,
  demoPlan,
  type PlanProblem,
  validatePlan,
} from "./plans.ts";
export { type RateAboveLimit, rateAboveLimit } from "./rate-bound.ts";
export type {
  Action,
  AgreementMetric,
  CostPerRequestMetric,
  Decision,
  ErrorCounts,
  ErrorRateMetric,
  FastPathConfig,
  FastPathResult,
  FastPathWindow,
  GroupCounts,
  GroupSuccessGapMetric,
  Judgement,
  LatencyP95Metric,
  Metric,
  MetricKind,
  MetricResult,
  MetricStatus,
  OnInconclusive,
  Plan,
  RolloutState,
  ScoreMeanMetric,
  Step,
  StepVerdict,
  SuccessRateMetric,
  VersionWindow,
} from "./types.ts";
