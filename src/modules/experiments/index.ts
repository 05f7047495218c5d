export { experimentRoutes } from "./experiments.routes.ts";
export type {
  ExperimentApiView,
  ExperimentCreate,
  ExperimentCreateInput,
  ExperimentResultsView,
} from "./experiments.schemas.ts";
export { createExperimentsService, type ExperimentsService } from "./experiments.service.ts";
export { createExperimentWatcher, type ExperimentWatcher } from "./watcher.ts";
