import { z } from "@hono/zod-openapi";
import { apiRoute, createRouter, jsonBody, jsonOk } from "../../http/openapi.ts";
import { Slug } from "../registry/index.ts";
import {
  ExperimentCreateSchema,
  ExperimentSchema,
  ResultsResponseSchema,
  StopSchema,
} from "./experiments.schemas.ts";
import type { ExperimentsService } from "./experiments.service.ts";
import type { ExperimentRow, Look } from "./experiments.store.ts";

const ModelParam = z.object({ model: Slug });
const tags = ["experiments"];

function out(e: ExperimentRow) {
  return {
    id: e.id,
    model: e.model,
    name: e.name,
    arms: e.arms.map((a) => ({ name: a.name, version: a.version, weight: a.weight })),
    primary: e.primary,
    secondary: e.secondary,
    guardrails: e.guardrails as unknown as Record<string, unknown>[],
    minSamplePerArm: e.minSamplePerArm,
    minDurationMs: e.minDurationMs,
    plannedSamplePerArm: e.plannedSamplePerArm,
    baselineRate: e.baselineRate,
    scoreVariance: e.scoreVariance,
    alpha: e.alpha,
    status: e.status,
    stopReason: e.stopReason,
    startedAt: e.startedAt.toISOString(),
    endedAt: e.endedAt?.toISOString() ?? null,
    startedBy: e.startedBy,
    results: e.lastResults,
  };
}

export function experimentRoutes(svc: ExperimentsService) {
  const app = createRouter();
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "startExperiment",
      permission: "rollouts:write",
      path: "/models/{model}/experiments",
      tags,
      summary: "Start an A/B experiment between versions; the gateway splits traffic stickily by subject",
      request: { params: ModelParam, body: jsonBody(ExperimentCreateSchema) },
      responses: { 201: jsonOk(ExperimentSchema, "Started") },
    }),
    async (c) => {
      const e = await svc.create(c.get("ctx"), c.req.valid("param").model, c.req.valid("json"));
      return c.json(out(e), 201);
    },
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getExperiment",
      permission: "registry:read",
      path: "/models/{model}/experiment",
      tags,
      summary: "The model's running experiment, or its last one, with its latest results",
      request: { params: ModelParam },
      responses: { 200: jsonOk(ExperimentSchema) },
    }),
    async (c) => c.json(out(await svc.get(c.req.valid("param").model)), 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getExperimentResults",
      permission: "registry:read",
      path: "/models/{model}/experiment/results",
      tags,
      summary:
        "Results of the running (or last) experiment: per arm, lifts, p-values, SRM, guardrails, recommendation",
      request: { params: ModelParam },
      responses: { 200: jsonOk(ResultsResponseSchema) },
    }),
    async (c) => {
      const e = await svc.results(c.req.valid("param").model);
      const look: Look = e.lastResults;
      return c.json({ experiment: e.id, model: e.model, name: e.name, status: e.status, ...look }, 200);
    },
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "stopExperiment",
      permission: "rollouts:write",
      path: "/models/{model}/experiment/stop",
      tags,
      summary: "Stop the running experiment: a final look, then all traffic back to production",
      request: { params: ModelParam, body: jsonBody(StopSchema) },
      responses: { 200: jsonOk(ExperimentSchema) },
    }),
    async (c) => {
      const e = await svc.stop(c.get("ctx"), c.req.valid("param").model, c.req.valid("json").reason);
      return c.json(out(e), 200);
    },
  );
  return app;
}
