import { z } from "@hono/zod-openapi";
import { apiRoute, createRouter, jsonBody, jsonOk } from "../../http/openapi.ts";
import { Slug } from "../registry/index.ts";
import {
  HistoryQuerySchema,
  HistorySchema,
  MonitorConfigSchema,
  MonitorStatusSchema,
} from "./monitoring.schemas.ts";
import type { MonitoringService } from "./monitoring.service.ts";

const ModelParam = z.object({
  model: z.union([Slug, z.literal("*")]).describe("a model name, or * for the workspace default monitor"),
});
const ConfigView = z
  .object({ model: z.string(), configuredFor: z.string(), config: MonitorConfigSchema })
  .openapi("MonitorConfigView");
const RunResult = z
  .object({
    judged: z.number().int(),
    fired: z.array(z.object({ rule: z.string(), summary: z.string(), event: z.string() })),
    resolved: z.array(z.string()),
  })
  .openapi("MonitorRunResult");
const tags = ["monitoring"];

export function monitoringRoutes(svc: MonitoringService) {
  const app = createRouter();
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getMonitor",
      permission: "registry:read",
      path: "/models/{model}/monitor",
      tags,
      summary:
        "The model's monitor: the production version watched, its baseline, and each rule's state and last window",
      request: { params: ModelParam },
      responses: { 200: jsonOk(MonitorStatusSchema) },
    }),
    async (c) => c.json(await svc.status(c.req.valid("param").model), 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listMonitorHistory",
      permission: "registry:read",
      path: "/models/{model}/monitor/history",
      tags,
      summary: "Every judged window of the model's monitor rules, oldest first",
      request: { params: ModelParam, query: HistoryQuerySchema },
      responses: { 200: jsonOk(HistorySchema) },
    }),
    async (c) => c.json(await svc.history(c.req.valid("param").model, c.req.valid("query")), 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getMonitorConfig",
      permission: "registry:read",
      path: "/models/{model}/monitor/config",
      tags,
      summary: "The monitor configuration that applies to the model (its own, or the workspace default)",
      request: { params: ModelParam },
      responses: { 200: jsonOk(ConfigView) },
    }),
    async (c) => c.json(await svc.getConfig(c.req.valid("param").model), 200),
  );
  // policy:admin: a monitor is a control; loosening or switching it off is a way around it.
  app.openapi(
    apiRoute({
      method: "put",
      operationId: "setMonitorConfig",
      permission: "policy:admin",
      path: "/models/{model}/monitor/config",
      tags,
      summary: "Set the model's monitor (or the workspace default, model *): baseline and rules",
      request: { params: ModelParam, body: jsonBody(MonitorConfigSchema) },
      responses: { 200: jsonOk(ConfigView) },
    }),
    async (c) => {
      const model = c.req.valid("param").model;
      const config = await svc.setConfig(c.get("ctx"), model, c.req.valid("json"), { field: "body" });
      return c.json({ model, configuredFor: model, config }, 200);
    },
  );
  app.openapi(
    apiRoute({
      method: "delete",
      operationId: "deleteMonitorConfig",
      permission: "policy:admin",
      path: "/models/{model}/monitor/config",
      tags,
      summary: "Remove the model's own monitor (the workspace default, if any, applies again)",
      request: { params: ModelParam },
      responses: { 204: { description: "removed" } },
    }),
    async (c) => {
      await svc.deleteConfig(c.get("ctx"), c.req.valid("param").model);
      return c.body(null, 204);
    },
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "runMonitor",
      permission: "rollouts:write",
      path: "/models/{model}/monitor/run",
      tags,
      summary:
        "Judge the model's ended windows now (the job does it every minute); a window already judged adds nothing",
      request: { params: ModelParam },
      responses: { 200: jsonOk(RunResult) },
    }),
    async (c) => {
      const r = await svc.runModel(c.get("ctx"), c.req.valid("param").model);
      return c.json(
        {
          judged: r.judged,
          fired: r.fired.map((f) => ({ rule: f.rule, summary: f.summary, event: f.event })),
          resolved: r.resolved,
        },
        200,
      );
    },
  );
  return app;
}
