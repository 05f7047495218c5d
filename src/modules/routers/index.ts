/** Routers from data (issue 18): calibrating a router's threshold and training its classifier on evaluations or feedback. */
export type { CalibrationSummary } from "./calibration-summary.ts";
export { type FeedbackTally, MAX_EXAMPLES } from "./feedback-examples.ts";
export { judge, SKIP_REASONS, type SkipReason } from "./feedback-labels.ts";
export { CalibrateSchema, routersRoutes, TrainSchema } from "./routers.routes.ts";
export {
  type CalibrateInput,
  createRoutersService,
  DEFAULT_FEEDBACK_WINDOW_MS,
  DEFAULT_MIN_PER_LABEL,
  type RoutersService,
  type TrainInput,
} from "./routers.service.ts";
