/**
 * A/B experiment results: pure functions from per-arm totals to lifts, fixed-horizon and
 * always-valid p-values, chance to beat control, corrected secondaries, guardrails, the SRM
 * check and a recommendation with reasons. Plain data in, plain data out; no I/O. See
 * docs/rollouts-analysis.md.
 *
 * @packageDocumentation
 */

export { armResult, checkGuardrail, DEFAULT_GUARDRAIL_MIN_REQUESTS, srmCheck } from "./arms.ts";
export {
  compare,
  HIGHER_IS_BETTER,
  mixingVariance,
  primaryComparisons,
  secondaryComparisons,
} from "./compare.ts";
export { describeComparison, type RecommendInput, recommend } from "./recommend.ts";
export { DEFAULT_MIN_SAMPLE_PER_ARM, experimentResults } from "./results.ts";
export type {
  ArmInput,
  ArmResult,
  Comparison,
  Decision,
  Direction,
  ExperimentInput,
  ExperimentMetric,
  ExperimentResults,
  Guardrail,
  GuardrailResult,
  GuardrailStatus,
  PrimaryComparison,
  Recommendation,
  SrmCheck,
} from "./types.ts";
