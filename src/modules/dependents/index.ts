export { dependentsRoutes } from "./dependents.routes.ts";
export type { Dependent, Dependents } from "./dependents.schemas.ts";
export { createDependentsService, type DependentsService } from "./dependents.service.ts";
export { MAX_WINDOW_MS, parseWindow } from "./window.ts";
