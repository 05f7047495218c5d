export { sameAnswer } from "./http/chat/index.ts";
export { isRefusal, type Resolution, resolve } from "./routing/resolve.ts";
export {
  createRouteConfigService,
  type RouteConfig,
  RouteConfigSchema,
  type RouteConfigService,
} from "./routing/route-config.ts";
export { routeConfigRoutes } from "./routing/routes.ts";
export type { ModelRoute, RoutableVersion, RoutingSnapshot } from "./routing/snapshot.ts";
export { createRoutingState, type RoutingState } from "./routing/state.ts";
