export { MAX_WINDOW_MS, parseWindow } from "../../lib/window.ts";
export { dependentsRoutes } from "./dependents.routes.ts";
export type { Dependent, Dependents } from "./dependents.schemas.ts";
export { createDependentsService, type DependentsService } from "./dependents.service.ts";
