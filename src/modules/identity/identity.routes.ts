import { z } from "@hono/zod-openapi";
import { apiRoute, createRouter, jsonBody, jsonOk } from "../../http/openapi.ts";
import { BUILT_IN_ROLES, permissionsOf } from "../../http/permissions.ts";
import { TokenCreatedSchema, TokenCreateSchema, TokenSchema } from "./identity.schemas.ts";
import type { IdentityService } from "./identity.service.ts";

const tags = ["identity"];

export function identityRoutes(svc: IdentityService) {
  const app = createRouter();
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listTokens",
      summary: "List API tokens (never their secrets)",
      permission: "tokens:admin",
      path: "/tokens",
      tags,
      responses: { 200: jsonOk(z.array(TokenSchema)) },
    }),
    async (c) => c.json(await svc.list(), 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "createToken",
      permission: "tokens:admin",
      path: "/tokens",
      tags,
      summary: "Create a token; its secret is in this response only",
      request: { body: jsonBody(TokenCreateSchema) },
      responses: { 201: jsonOk(TokenCreatedSchema, "Created") },
    }),
    async (c) => c.json(await svc.create(c.get("ctx"), c.req.valid("json")), 201),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "revokeToken",
      summary: "Revoke a token",
      permission: "tokens:admin",
      path: "/tokens/{id}/revoke",
      tags,
      request: { params: z.object({ id: z.string().max(100) }) },
      responses: { 200: jsonOk(TokenSchema) },
    }),
    async (c) => c.json(await svc.revoke(c.get("ctx"), c.req.valid("param").id), 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getWhoami",
      summary: "The caller's token: name and roles",
      permission: "registry:read",
      path: "/whoami",
      tags,
      responses: {
        200: jsonOk(
          z.object({
            name: z.string(),
            roles: z.array(z.string()),
            permissions: z.array(z.string()),
            builtInRoles: z.array(z.string()),
          }),
        ),
      },
    }),
    async (c) => {
      const ctx = c.get("ctx");
      const roles = ctx.roles ?? [];
      return c.json(
        {
          name: ctx.actor,
          roles,
          permissions: [...permissionsOf(roles)].sort(),
          builtInRoles: BUILT_IN_ROLES,
        },
        200,
      );
    },
  );
  return app;
}
