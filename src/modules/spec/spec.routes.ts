import { apiRoute, createRouter, jsonBody, jsonOk } from "../../http/openapi.ts";
import { ApplyRequestSchema, ApplyResultSchema } from "./spec.schemas.ts";
import type { SpecService } from "./spec.service.ts";

export function specRoutes(svc: SpecService) {
  const app = createRouter();
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "applySpec",
      permission: "policy:admin",
      path: "/apply",
      tags: ["spec"],
      summary:
        "Reconcile a governance spec (modelgov.yaml); dryRun returns the plan without changing anything",
      request: { body: jsonBody(ApplyRequestSchema) },
      responses: { 200: jsonOk(ApplyResultSchema) },
    }),
    async (c) => {
      const b = c.req.valid("json");
      return c.json(await svc.apply(c.get("ctx"), b.spec, b.dryRun), 200);
    },
  );
  return app;
}
