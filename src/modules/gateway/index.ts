export { createEgressGuard, type Lookup } from "./egress/index.ts";
export { chatRequestOf, sameAnswer } from "./http/chat/index.ts";
export { createGatewayMetrics, type MetricsMode, metricsRoutes } from "./metrics.ts";
export { describeGateway } from "./openapi.ts";
export type { FallbackStep } from "./resilience/fallback.ts";
export { ballot, escalatesOnError, shortfall } from "./routing/checks.ts";
export { CONTEXT_HEADER_PREFIX, flagContext } from "./routing/flag-context.ts";
export { isRefusal, type Resolution, resolve, throughRouter } from "./routing/resolve.ts";
export {
  createRouteConfigService,
  type RouteConfig,
  RouteConfigSchema,
  type RouteConfigService,
} from "./routing/route-config.ts";
export { type CompiledRouter, compileRouter, type RouterInput } from "./routing/router.ts";
export { routerInput } from "./routing/router-input.ts";
export { routeConfigRoutes } from "./routing/routes.ts";
export {
  DEFAULT_TIMEOUTS,
  type ModelRoute,
  type RoutableVersion,
  type RoutingSnapshot,
  type Timeouts,
} from "./routing/snapshot.ts";
export { createRoutingState, type RoutingState } from "./routing/state.ts";
export {
  type Ask,
  classify,
  emptyRow,
  runCascade,
  runEnsemble,
  type Step,
  within,
} from "./routing/strategies.ts";
export { createTracing, type GatewayTracing, tracingSettings } from "./tracing/index.ts";
