export { type BreakerStateOf, createRolloutController, type RolloutController } from "./controller.ts";
export { PlanBodySchema, PlanSchema } from "./plan.schema.ts";
export { type CountRolloutDecision, registerRolloutMetrics } from "./rollouts.metrics.ts";
export type { RolloutStartSchema } from "./rollouts.routes.ts";
export {
  type RolloutApiView,
  type RolloutVerdictView,
  rolloutRoutes,
  type ShadowReportView,
  shadowRoutes,
} from "./rollouts.routes.ts";
export { createRolloutsService, type RolloutsService, type RolloutView } from "./rollouts.service.ts";
export { savePlan, storedPlans } from "./rollouts.store.ts";
export { createShadowService, type ShadowService } from "./shadow.ts";
export type { RolloutVerdict, Verdict } from "./verdict.ts";
