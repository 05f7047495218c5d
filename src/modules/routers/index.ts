/** Routers from data (issue 18): calibrating a router's threshold and training its classifier on evaluations. */
export { CalibrateSchema, routersRoutes, TrainSchema } from "./routers.routes.ts";
export {
  type CalibrateInput,
  type CalibrationSummary,
  createRoutersService,
  type RoutersService,
  type TrainInput,
} from "./routers.service.ts";
