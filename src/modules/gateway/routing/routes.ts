import { z } from "@hono/zod-openapi";
import { apiRoute, createRouter, jsonBody, jsonOk } from "../../../http/openapi.ts";
import { Slug } from "../../registry/index.ts";
import { RouteConfigSchema, type RouteConfigService } from "./route-config.ts";

const ModelParam = z.object({ model: Slug });

export function routeConfigRoutes(svc: RouteConfigService) {
  const app = createRouter();
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getRoute",
      summary: "Get the model's gateway route",
      permission: "registry:read",
      path: "/models/{model}/route",
      tags: ["gateway"],
      request: { params: ModelParam },
      responses: { 200: jsonOk(RouteConfigSchema) },
    }),
    async (c) => c.json(await svc.get(c.req.valid("param").model), 200),
  );
  app.openapi(
    apiRoute({
      method: "put",
      operationId: "setRoute",
      permission: "registry:write",
      path: "/models/{model}/route",
      tags: ["gateway"],
      summary:
        "Set the model's split, fallback chain, pinning policy, timeouts, breaker and prices; every replica follows within a second",
      request: { params: ModelParam, body: jsonBody(RouteConfigSchema) },
      responses: { 200: jsonOk(RouteConfigSchema) },
    }),
    async (c) => c.json(await svc.set(c.get("ctx"), c.req.valid("param").model, c.req.valid("json")), 200),
  );
  return app;
}
