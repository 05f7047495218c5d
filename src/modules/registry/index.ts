export { currentAliasTarget } from "./aliases.store.ts";
export { type Contract, checkContractCompat } from "./contract-compat.ts";
export type { EnteredProduction, ProductionGate } from "./lifecycle.service.ts";
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
  productionVersionId,
  versionStatusByName,
  versionStatuses,
} from "./lookups.ts";
export { DEFAULT_POLICY, type RegistryPolicy, RegistryPolicySchema, readPolicy } from "./policy.ts";
export { registryRoutes } from "./registry.routes.ts";
export * from "./registry.schemas.ts";
export {
  createRegistryService,
  type RegistryService,
  type RetrainedCandidateHooks,
} from "./registry.service.ts";
export { getVersion as findVersion, getVersionById, versionsByIds } from "./registry.store.ts";
export { scopeIds } from "./scope.ts";
