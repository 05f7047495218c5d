import { z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.ts";
import { apiRoute, createRouter, jsonBody, jsonOk } from "../../http/openapi.ts";
import { RegistryPolicySchema } from "./policy.ts";
import {
  AliasName,
  AliasSetSchema,
  ModelCreateSchema,
  ModelPatchSchema,
  ModelQuerySchema,
  ModelSchema,
  page,
  RecommendQuerySchema,
  SemverString,
  Slug,
  STATUSES,
  StatusChangeSchema,
  VersionCreateSchema,
  VersionPatchSchema,
  VersionQuerySchema,
  VersionSchema,
} from "./registry.schemas.ts";
import type { RegistryService } from "./registry.service.ts";

const ModelParam = z.object({ model: Slug });
const VersionParam = z.object({ model: Slug, version: SemverString });
const AliasParam = z.object({ model: Slug, alias: AliasName });
const AliasMoveSchema = z
  .object({
    alias: z.string(),
    version: z.string().nullable(),
    previousVersion: z.string().nullable(),
    reason: z.string(),
    actor: z.string(),
    at: z.string(),
  })
  .openapi("AliasMove");
const StateAtSchema = z
  .object({
    model: z.string(),
    at: z.string(),
    production: z.string().nullable(),
    aliases: z.record(z.string(), z.string()),
    versions: z.array(z.object({ version: z.string(), status: z.enum(STATUSES) })),
  })
  .openapi("ModelStateAt");
const tags = ["registry"];

/** Thin handlers: validate (done by the route), one service call, respond. */
export function registryRoutes(svc: RegistryService) {
  const app = createRouter();
  const ctx = (c: { get(k: "ctx"): AppEnv["Variables"]["ctx"] }) => c.get("ctx");

  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listModels",
      summary: "List models, filtered by text, use case, owner, tag, risk tier, status or provider",
      permission: "registry:read",
      path: "/models",
      tags,
      request: { query: ModelQuerySchema },
      responses: { 200: jsonOk(page(ModelSchema, "ModelPage")) },
    }),
    async (c) => c.json(await svc.listModels(c.req.valid("query")), 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "createModel",
      summary: "Register a model",
      permission: "registry:write",
      path: "/models",
      tags,
      request: { body: jsonBody(ModelCreateSchema) },
      responses: { 201: jsonOk(ModelSchema, "Created") },
    }),
    async (c) => c.json(await svc.createModel(ctx(c), c.req.valid("json")), 201),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getModel",
      summary: "Get a model",
      permission: "registry:read",
      path: "/models/{model}",
      tags,
      request: { params: ModelParam },
      responses: { 200: jsonOk(ModelSchema) },
    }),
    async (c) => c.json(await svc.getModel(c.req.valid("param").model), 200),
  );
  app.openapi(
    apiRoute({
      method: "patch",
      operationId: "updateModel",
      summary: "Update a model's owner, risk tier, description or tags",
      permission: "registry:write",
      path: "/models/{model}",
      tags,
      request: { params: ModelParam, body: jsonBody(ModelPatchSchema) },
      responses: { 200: jsonOk(ModelSchema) },
    }),
    async (c) => c.json(await svc.updateModel(ctx(c), c.req.valid("param").model, c.req.valid("json")), 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listVersions",
      summary: "List a model's versions",
      permission: "registry:read",
      path: "/models/{model}/versions",
      tags,
      request: { params: ModelParam, query: VersionQuerySchema.omit({ model: true }) },
      responses: { 200: jsonOk(page(VersionSchema, "VersionPage")) },
    }),
    async (c) => {
      await svc.getModel(c.req.valid("param").model);
      return c.json(
        await svc.listVersions({ ...c.req.valid("query"), model: c.req.valid("param").model }),
        200,
      );
    },
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "registerVersion",
      summary: "Register a version of a model",
      permission: "registry:write",
      path: "/models/{model}/versions",
      tags,
      request: { params: ModelParam, body: jsonBody(VersionCreateSchema) },
      responses: { 201: jsonOk(VersionSchema, "Registered") },
    }),
    async (c) =>
      c.json(await svc.registerVersion(ctx(c), c.req.valid("param").model, c.req.valid("json")), 201),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getVersion",
      summary: "Get a version",
      permission: "registry:read",
      path: "/models/{model}/versions/{version}",
      tags,
      request: { params: VersionParam },
      responses: { 200: jsonOk(VersionSchema) },
    }),
    async (c) => c.json(await svc.getVersion(c.req.valid("param").model, c.req.valid("param").version), 200),
  );
  app.openapi(
    apiRoute({
      method: "patch",
      operationId: "updateVersion",
      summary: "Update a version's metadata",
      permission: "registry:write",
      path: "/models/{model}/versions/{version}",
      tags,
      request: { params: VersionParam, body: jsonBody(VersionPatchSchema) },
      responses: { 200: jsonOk(VersionSchema) },
    }),
    async (c) => {
      const p = c.req.valid("param");
      return c.json(await svc.updateVersion(ctx(c), p.model, p.version, c.req.valid("json")), 200);
    },
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "changeVersionStatus",
      summary: "Move a version through its lifecycle (staging, canary, production, deprecated, retired)",
      permission: "registry:write",
      path: "/models/{model}/versions/{version}/status",
      tags,
      request: { params: VersionParam, body: jsonBody(StatusChangeSchema) },
      responses: { 200: jsonOk(VersionSchema) },
    }),
    async (c) => {
      const p = c.req.valid("param");
      const b = c.req.valid("json");
      return c.json(await svc.transition(ctx(c), p.model, p.version, b.status, b.reason), 200);
    },
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listVersionHistory",
      summary: "A version's status changes, oldest first",
      permission: "registry:read",
      path: "/models/{model}/versions/{version}/history",
      tags,
      request: { params: VersionParam },
      responses: {
        200: jsonOk(
          z.array(
            z.object({
              from: z.enum(STATUSES).nullable(),
              to: z.enum(STATUSES),
              reason: z.string(),
              actor: z.string(),
              at: z.string(),
            }),
          ),
        ),
      },
    }),
    async (c) =>
      c.json(await svc.versionHistory(c.req.valid("param").model, c.req.valid("param").version), 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "searchVersions",
      summary: "Search versions across models",
      permission: "registry:read",
      path: "/versions",
      tags,
      request: { query: VersionQuerySchema },
      responses: { 200: jsonOk(page(VersionSchema, "VersionPage")) },
    }),
    async (c) => c.json(await svc.listVersions(c.req.valid("query")), 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listAliasMoves",
      summary: "Every move of the model's aliases, oldest first",
      permission: "registry:read",
      path: "/models/{model}/aliases/history",
      tags,
      request: { params: ModelParam, query: z.object({ alias: AliasName.optional() }) },
      responses: { 200: jsonOk(z.array(AliasMoveSchema)) },
    }),
    async (c) => c.json(await svc.aliasHistory(c.req.valid("param").model, c.req.valid("query").alias), 200),
  );
  app.openapi(
    apiRoute({
      method: "put",
      operationId: "setAlias",
      summary: "Point an alias at a version",
      permission: "registry:write",
      path: "/models/{model}/aliases/{alias}",
      tags,
      request: { params: AliasParam, body: jsonBody(AliasSetSchema) },
      responses: { 200: jsonOk(VersionSchema) },
    }),
    async (c) => {
      const p = c.req.valid("param");
      const b = c.req.valid("json");
      return c.json(await svc.setAlias(ctx(c), p.model, p.alias, b.version, b.reason), 200);
    },
  );
  app.openapi(
    apiRoute({
      method: "delete",
      operationId: "deleteAlias",
      summary: "Remove an alias",
      permission: "registry:write",
      path: "/models/{model}/aliases/{alias}",
      tags,
      request: { params: AliasParam, query: z.object({ reason: z.string().max(2000).default("") }) },
      responses: { 204: { description: "Removed" } },
    }),
    async (c) => {
      const p = c.req.valid("param");
      await svc.removeAlias(ctx(c), p.model, p.alias, c.req.valid("query").reason);
      return c.body(null, 204);
    },
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getModelState",
      summary: "The model as it was at a past time: production, aliases and version statuses",
      permission: "registry:read",
      path: "/models/{model}/state",
      tags,
      request: { params: ModelParam, query: z.object({ at: z.string().datetime({ offset: true }) }) },
      responses: { 200: jsonOk(StateAtSchema) },
    }),
    async (c) => c.json(await svc.stateAt(c.req.valid("param").model, c.req.valid("query").at), 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "recommendVersions",
      summary: "Recommend versions for a use case, ranked by a metric",
      permission: "registry:read",
      path: "/recommend",
      tags,
      request: { query: RecommendQuerySchema },
      responses: {
        200: jsonOk(
          z
            .object({
              useCase: z.string(),
              metric: z.string(),
              order: z.enum(["asc", "desc"]),
              items: z.array(
                z.object({
                  rank: z.number().int(),
                  metric: z.string(),
                  value: z.number(),
                  serving: z.boolean(),
                  version: VersionSchema,
                }),
              ),
            })
            .openapi("Recommendation"),
        ),
      },
    }),
    async (c) => c.json(await svc.recommend(c.req.valid("query")), 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getRegistryPolicy",
      summary: "Get the registry policy",
      permission: "registry:read",
      path: "/registry/policy",
      tags,
      responses: { 200: jsonOk(RegistryPolicySchema) },
    }),
    async (c) => c.json(await svc.getPolicy(), 200),
  );
  app.openapi(
    apiRoute({
      method: "put",
      operationId: "setRegistryPolicy",
      summary: "Set the registry policy",
      permission: "policy:admin",
      path: "/registry/policy",
      tags,
      request: { body: jsonBody(RegistryPolicySchema) },
      responses: { 200: jsonOk(RegistryPolicySchema) },
    }),
    async (c) => c.json(await svc.setPolicy(ctx(c), c.req.valid("json")), 200),
  );
  return app;
}
