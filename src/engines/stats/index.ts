/**
 * modelgov/stats — pure statistics for experiments, rollouts and monitoring.
 *
 * Plain data in, plain data out; no I/O. Invalid input throws a `RangeError` whose message
 * names the function and the argument. Every p-value and tail probability is computed
 * from survival functions (no `1 - cdf`), so values like 3e-22 keep their relative precision.
 *
 * Sign conventions: `twoProportionZTest(a, b)` and `welchTTest(x, y)` test a - b (x - y),
 * as statsmodels and R do; `frequentistLift`, `alwaysValidTest` and `betaBinomialTest` take
 * (control, treatment) and report treatment relative to control.
 *
 * See docs/stats.md for formulas and conventions.
 *
 * @packageDocumentation
 */

// Tests valid under continuous monitoring (rollout judge, guardrails).
export {
  bernoulliSprt,
  logNormalCdf,
  logOneSidedMixture,
  normalMixtureOneSided,
  type OneSidedMixtureOptions,
  type OneSidedMixtureResult,
  oneSidedCriticalZ,
  RATE_RATIOS,
  rateAlternatives,
  type SprtAlternative,
  type SprtResult,
} from "./always-valid.ts";
// Bayesian.
export {
  type BetaBinomialOptions,
  type BetaBinomialResult,
  type BetaParams,
  type BetaPosterior,
  betaBinomialTest,
  betaCredibleInterval,
  probabilityBetaGreater,
} from "./bayes.ts";
// Distribution functions.
export {
  betaCdf,
  betaPdf,
  betaQuantile,
  betaSf,
  binomialCdf,
  binomialPmf,
  binomialSf,
  chiSquareCdf,
  chiSquareSf,
  normalCdf,
  normalPdf,
  normalQuantile,
  normalSf,
  studentTCdf,
  studentTQuantile,
  studentTSf,
} from "./distributions.ts";
// Drift.
export {
  type Category,
  type CategoryCounts,
  categoryCounts,
  chiSquareDrift,
  type PsiOptions,
  type PsiResult,
  psi,
  psiFromCounts,
} from "./drift.ts";
export {
  hellingerDistance,
  type JensenShannonOptions,
  jensenShannonDistance,
  type KsOptions,
  type KsResult,
  kolmogorovSf,
  ksFromCounts,
  ksTwoSample,
  lInfinityDistance,
  normalizedWasserstein,
  type WassersteinOptions,
  wassersteinDistance,
} from "./drift-distances.ts";
export {
  type Interval,
  type LinearTerm,
  moverInterval,
  newcombeInterval,
  wilsonInterval,
} from "./intervals.ts";
export { frequentistLift, type LiftOptions, type LiftResult } from "./lift.ts";
export { type WelchOptions, type WelchResult, welchTTest, welchTTestFromSummary } from "./means.ts";
// Multiple comparisons.
export { type AdjustMethod, adjustPValues, benjaminiHochberg, bonferroni, holm } from "./multiple-testing.ts";
export {
  type McNemarInput,
  type McNemarResult,
  mcNemarTest,
  type PairedTOptions,
  type PairedTResult,
  pairedTTest,
} from "./paired.ts";
// Planning.
export {
  powerMeans,
  powerTwoProportions,
  type SampleSize,
  sampleSizeMeans,
  sampleSizeTwoProportions,
  type TwoMeansDesign,
  type TwoProportionsDesign,
} from "./power.ts";
// Frequentist tests.
export {
  type TwoProportionZOptions,
  type TwoProportionZResult,
  twoProportionZTest,
} from "./proportions.ts";
// Always-valid sequential testing.
export {
  alwaysValidTest,
  mixingVarianceForHorizon,
  type SequentialOptions,
  type SequentialResult,
} from "./sequential.ts";
export {
  type ChiSquareResult,
  chiSquareGoodnessOfFit,
  type SrmOptions,
  type SrmResult,
  sampleRatioMismatch,
} from "./srm.ts";
// Arm summaries shared by the tests.
export type { ArmSummary, MeanSummary, ProportionSummary, SumSummary } from "./summary.ts";
