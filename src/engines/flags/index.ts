/**
 * Feature flags as pure functions (issue 19): a definition is checked and compiled once, then
 * evaluated against an evaluation context and an instant without I/O. The control plane serves
 * them over OFREP; the gateway can evaluate them on its hot path.
 */
export {
  type ErrorCode,
  type EvaluationContext,
  FLAG_KEY,
  type FlagDefinition,
  FlagDefinitionError,
  type FlagRule,
  type FlagSchedule,
  type FlagType,
  type FlagValue,
  hasType,
  type Reason,
  type Resolution,
  type RolloutSlice,
} from "./definition.ts";
export { BUCKETS, bucketOf, type CompiledFlag, compileFlag, errorResolution, FlagSet } from "./evaluate.ts";
export { type Reach, variantsReaching } from "./segments.ts";
export { type ModelTarget, modelTargets } from "./targets.ts";
