/**
 * Monitoring: per-model monitors whose rules judge the production version's windows against
 * its baseline (metrics, feature drift, bias) and fire into the retraining loop.
 */
export { createMonitoringJob, type MonitoringJob } from "./job.ts";
export { registerMonitorMetrics } from "./metrics.ts";
export { toSums } from "./monitoring.judge.ts";
export { monitoringRoutes } from "./monitoring.routes.ts";
export {
  compileRules,
  type MonitorConfig,
  MonitorConfigSchema,
  type MonitorStatus,
  RuleInputSchema,
} from "./monitoring.schemas.ts";
export {
  createMonitoringService,
  type Fence,
  type FiredRule,
  type MonitoringDeps,
  type MonitoringService,
} from "./monitoring.service.ts";
