import { z } from "@hono/zod-openapi";
import { apiRoute, createRouter, jsonBody, jsonOk } from "../../http/openapi.ts";
import { Slug } from "../registry/index.ts";
import { ComputedSchema, ComputeSchema, SeriesQuerySchema, SeriesSchema } from "./bias-drift.schemas.ts";
import type { BiasDriftService } from "./bias-drift.service.ts";

const ModelParam = z.object({ model: Slug });
const tags = ["fairness"];

export function biasDriftRoutes(svc: BiasDriftService) {
  const app = createRouter();
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getBiasDrift",
      permission: "registry:read",
      path: "/models/{model}/bias-drift",
      tags,
      summary:
        "Success by group on live traffic, per version, attribute and window, with the points that raised a drift alert",
      request: { params: ModelParam, query: SeriesQuerySchema },
      responses: { 200: jsonOk(SeriesSchema) },
    }),
    async (c) => c.json(await svc.series(c.req.valid("param").model, c.req.valid("query")), 200),
  );
  // rollouts:write, not policy:admin: computing a window changes no policy and no data, only
  // records what the request log already says (once per window); the people who watch live
  // traffic (engineering on call) backfill it, as they run rollouts.
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "computeBiasDrift",
      permission: "rollouts:write",
      path: "/models/{model}/bias-drift/compute",
      tags,
      summary:
        "Compute the bias-drift points of ended windows now (backfill, demos); a window already computed adds nothing",
      request: { params: ModelParam, body: jsonBody(ComputeSchema) },
      responses: { 200: jsonOk(ComputedSchema) },
    }),
    async (c) =>
      c.json(await svc.compute(c.get("ctx"), c.req.valid("param").model, c.req.valid("json")), 200),
  );
  return app;
}
