export {
  attributeSets,
  INTERSECTION,
  judgeSet,
  judgeWindow,
  type PointDraft,
  type SetPolicy,
  shouldAlert,
} from "./bias-drift.compute.ts";
export { biasDriftRoutes } from "./bias-drift.routes.ts";
export type {
  ComputedView,
  ComputeInput,
  PointView,
  SeriesQuery,
  SeriesQuerySchema,
  SeriesView,
} from "./bias-drift.schemas.ts";
export {
  ALERT_ACTION,
  type BiasDriftService,
  createBiasDriftService,
  MAX_WINDOWS_PER_CALL,
} from "./bias-drift.service.ts";
export { type BiasDriftJob, createBiasDriftJob } from "./job.ts";
