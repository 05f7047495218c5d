export { identityRoutes } from "./identity.routes.ts";
export { RoleName, type Token, type TokenCreate, TokenCreateSchema } from "./identity.schemas.ts";
export {
  createIdentityService,
  hashToken,
  type IdentityService,
  type Principal,
} from "./identity.service.ts";
