export { specJsonSchema } from "./json-schema.ts";
export { specRoutes } from "./spec.routes.ts";
export { ApplyRequestSchema, type Spec, SpecSchema } from "./spec.schemas.ts";
export { createSpecService, type SpecService } from "./spec.service.ts";
