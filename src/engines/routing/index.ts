/**
 * Multi-model routing as pure functions (issue 18): conditions over a request, a complexity
 * score from cheap signals, a hashed n-gram classifier, and the calibration of a two-tier
 * router's threshold on a cost-quality curve. The gateway compiles a router version's policy
 * with these once and evaluates it per request.
 */
export {
  type Calibration,
  type CalibrationCase,
  CalibrationError,
  type CurvePoint,
  calibrateThreshold,
  costQualityCurve,
} from "./calibrate.ts";
export {
  type ComplexityInput,
  type ComplexitySignals,
  type ComplexityWeights,
  complexityScore,
  complexitySignals,
  DEFAULT_COMPLEXITY_WEIGHTS,
} from "./complexity.ts";
export {
  CONTEXT_PATHS,
  type Condition,
  ConditionError,
  compileCondition,
  firstMatch,
  type PathScheme,
  REQUEST_PATHS,
  type RequestFacts,
  type Test,
} from "./conditions.ts";
export {
  featurize,
  fnv1a32,
  type HashedLogisticModel,
  type HashedLogisticOptions,
  predictHashedLogistic,
  TrainingError,
  type TrainingReport,
  trainHashedLogistic,
} from "./hashed-logistic.ts";
