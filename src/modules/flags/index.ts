/** Feature flags (issue 19): typed flags with targeting, rollouts, schedules and history; OFREP. */

export { flagChangeRoutes } from "./flag-changes.routes.ts";
export { type CountFlagEvaluation, registerFlagMetrics } from "./flags.metrics.ts";
export { flagsRoutes } from "./flags.routes.ts";
export {
  type Flag,
  type FlagChangeRequest,
  type FlagInput,
  FlagInputSchema,
  type FlagRevision,
  FlagSchema,
} from "./flags.schemas.ts";
export {
  createFlagsService,
  type FlagsService,
  inputOf,
  loadFlagSet,
  type PutOutcome,
  toDefinition,
} from "./flags.service.ts";
export { findFlag } from "./flags.store.ts";
export { bulkAnswer, ofrepRoutes } from "./ofrep.routes.ts";
export type { ServableGate } from "./release-gate.ts";
