export { createKubeApplier, type TrafficApplier } from "./kube.ts";
export { createTrafficReconciler, type TrafficReconciler } from "./reconciler.ts";
export { trafficRoutes } from "./traffic.routes.ts";
export {
  type TrafficSync,
  TrafficSyncSchema,
  type TrafficTarget,
  TrafficTargetSchema,
  type TrafficTargetView,
} from "./traffic.schemas.ts";
export { createTrafficService, type TrafficService } from "./traffic.service.ts";
