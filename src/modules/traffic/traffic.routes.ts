import { z } from "@hono/zod-openapi";
import { apiRoute, createRouter, jsonBody, jsonOk } from "../../http/openapi.ts";
import { Slug } from "../registry/index.ts";
import { TrafficTargetSchema, TrafficTargetViewSchema } from "./traffic.schemas.ts";
import type { TrafficService } from "./traffic.service.ts";

const ModelParam = z.object({ model: Slug });
const tags = ["traffic"];

export function trafficRoutes(svc: TrafficService) {
  const app = createRouter();
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getTrafficTarget",
      permission: "registry:read",
      path: "/models/{model}/traffic-target",
      tags,
      summary: "The cluster route that follows the model's traffic decisions, and whether it is in sync",
      request: { params: ModelParam },
      responses: { 200: jsonOk(TrafficTargetViewSchema) },
    }),
    async (c) => c.json(await svc.get(c.req.valid("param").model), 200),
  );
  app.openapi(
    apiRoute({
      method: "put",
      operationId: "setTrafficTarget",
      permission: "registry:write",
      path: "/models/{model}/traffic-target",
      tags,
      summary:
        "Point a containerised model at its HTTPRoute (or VirtualService): which backend serves each version; rollouts, promotions and rollbacks then move its weights",
      request: { params: ModelParam, body: jsonBody(TrafficTargetSchema) },
      responses: { 200: jsonOk(TrafficTargetViewSchema) },
    }),
    async (c) => c.json((await svc.set(c.get("ctx"), c.req.valid("param").model, c.req.valid("json")))!, 200),
  );
  app.openapi(
    apiRoute({
      method: "delete",
      operationId: "deleteTrafficTarget",
      permission: "registry:write",
      path: "/models/{model}/traffic-target",
      tags,
      summary: "Stop steering the route (its weights stay as they are)",
      request: { params: ModelParam },
      responses: { 204: { description: "removed" } },
    }),
    async (c) => {
      await svc.remove(c.get("ctx"), c.req.valid("param").model);
      return c.body(null, 204);
    },
  );
  return app;
}
