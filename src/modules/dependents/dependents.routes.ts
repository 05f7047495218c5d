import { z } from "@hono/zod-openapi";
import { apiRoute, createRouter, jsonOk } from "../../http/openapi.ts";
import { DependentsQuerySchema, DependentsSchema } from "./dependents.schemas.ts";
import type { DependentsService } from "./dependents.service.ts";

export function dependentsRoutes(svc: DependentsService) {
  const app = createRouter();
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listDependents",
      permission: "registry:read",
      path: "/models/{model}/dependents",
      tags: ["gateway"],
      summary: "Who calls the model, per client and version, in a time window (the blast radius of a change)",
      request: { params: z.object({ model: z.string().max(200) }), query: DependentsQuerySchema },
      responses: { 200: jsonOk(DependentsSchema) },
    }),
    async (c) => c.json(await svc.dependents(c.req.valid("param").model, c.req.valid("query").window), 200),
  );
  return app;
}
