export { type Contract, checkContractCompat } from "./contract-compat.ts";
export type { ProductionGate } from "./lifecycle.service.ts";
export { allowedTransitions, DEFAULT_RETENTION, TRANSITIONS } from "./lifecycle.ts";
export {
  lockModel,
  lockModelByName,
  lockModelNoKeyUpdate,
  modelByName,
  modelCount,
  modelExists,
  modelFacts,
  modelIdByName,
  modelRowByName,
  versionStatusByName,
  versionStatuses,
} from "./lookups.ts";
export { DEFAULT_POLICY, type RegistryPolicy, RegistryPolicySchema, readPolicy } from "./policy.ts";
export { registryRoutes } from "./registry.routes.ts";
export * from "./registry.schemas.ts";
export { createRegistryService, type RegistryService } from "./registry.service.ts";
export { getVersion as findVersion, getVersionById } from "./registry.store.ts";
export { scopeIds } from "./scope.ts";
