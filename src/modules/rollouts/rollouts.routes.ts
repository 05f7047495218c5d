import { z } from "@hono/zod-openapi";
import { apiRoute, createRouter, jsonBody, jsonOk } from "../../http/openapi.ts";
import { notFound } from "../../lib/errors.ts";
import { SemverString, Slug } from "../registry/index.ts";
import { TrafficSyncSchema } from "../traffic/index.ts";
import type { RolloutsService, RolloutView } from "./rollouts.service.ts";
import type { ShadowService } from "./shadow.ts";

const ModelParam = z.object({ model: Slug });
const tags = ["rollouts"];

const DecisionSchema = z.object({
  at: z.string(),
  decision: z.string().describe("start, advance, hold, pause, resume, promote, rollback, abort"),
  stepIndex: z.number().int(),
  weightBefore: z.number(),
  weightAfter: z.number(),
  reasons: z.array(z.string()),
  analysis: z.unknown().describe("the judge's verdict and per-metric numbers behind an analysis"),
  actor: z.string(),
});

const RolloutSchema = z
  .object({
    id: z.string(),
    model: z.string(),
    candidate: z.string(),
    baseline: z.string(),
    planName: z.string(),
    plan: z.record(z.string(), z.unknown()),
    status: z.enum(["running", "paused", "promoted", "rolled_back", "aborted"]),
    mode: z.enum(["canary", "blue_green"]),
    stepIndex: z.number().int(),
    steps: z.number().int(),
    weight: z.number().describe("the candidate's share of traffic, in percent"),
    consecutiveFailures: z.number().int(),
    pausedReason: z.string().nullable(),
    stepStartedAt: z.string(),
    nextAnalysisAt: z.string(),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
    startedBy: z.string(),
    lastDecision: z.unknown(),
    decisions: z.array(DecisionSchema).describe("newest first (the last 50)"),
    cluster: TrafficSyncSchema.nullable().describe(
      "the model's cluster route (containerised versions, docs/containers.md): pending, in_sync or failing; null without a traffic target",
    ),
  })
  .openapi("Rollout");
export type RolloutApiView = z.infer<typeof RolloutSchema>;

export const RolloutStartSchema = z
  .object({
    version: SemverString.describe("the candidate version"),
    plan: z
      .union([z.string().min(1).max(100), z.record(z.string(), z.unknown())])
      .optional()
      .describe("a plan's name (default, demo, blue-green, or one from modelgov.yaml) or a whole plan"),
    mode: z
      .enum(["canary", "blue_green"])
      .default("canary")
      .describe(
        "canary: served traffic moves step by step; blue_green: judged on mirrored traffic, then switched at once",
      ),
  })
  .strict();
const ReasonSchema = z.object({ reason: z.string().min(1).max(2000).optional() }).strict();
const PromoteSchema = z.object({ full: z.boolean().default(false) }).strict();

const VerdictQuery = z.object({
  candidate: SemverString.optional().describe(
    "the candidate version the outside canary runs: its latest rollout is judged (default: the model's active rollout, else its last)",
  ),
});
const VerdictSchema = z
  .object({
    verdict: z
      .enum(["promote", "hold", "rollback"])
      .describe("promote: go on; hold: wait (or let a person decide); rollback: abort the canary"),
    reasons: z.array(z.string()),
    model: z.string(),
    rollout: z.string(),
    candidate: z.string(),
    baseline: z.string(),
    status: z.enum(["running", "paused", "promoted", "rolled_back", "aborted"]),
    stepIndex: z.number().int(),
    steps: z.number().int(),
    weight: z.number().describe("the candidate's share of traffic, in percent"),
    at: z.string(),
    analysis: z
      .object({
        verdict: z.enum(["pass", "fail", "inconclusive", "insufficient_data"]),
        action: z
          .enum(["advance", "hold", "promote", "rollback", "paused"])
          .describe("what the controller would do if it looked now"),
        window: z.object({ from: z.string(), to: z.string() }),
        samples: z.object({ baseline: z.number().int(), candidate: z.number().int() }),
        metrics: z.array(z.object({ metric: z.string(), status: z.string(), reason: z.string() })),
      })
      .nullable()
      .describe("the look behind an active rollout's verdict; null once it has ended"),
  })
  .openapi("RolloutVerdict");
export type RolloutVerdictView = z.infer<typeof VerdictSchema>;

function out(r: RolloutView) {
  return {
    id: r.id,
    model: r.model,
    candidate: r.candidate,
    baseline: r.baseline,
    planName: r.planName,
    plan: r.plan as unknown as Record<string, unknown>,
    status: r.status,
    mode: r.mode,
    stepIndex: r.stepIndex,
    steps: r.plan.steps.length,
    weight: r.weight,
    consecutiveFailures: r.consecutiveFailures,
    pausedReason: r.pausedReason,
    stepStartedAt: r.stepStartedAt.toISOString(),
    nextAnalysisAt: r.nextAnalysisAt.toISOString(),
    startedAt: r.startedAt.toISOString(),
    endedAt: r.endedAt?.toISOString() ?? null,
    startedBy: r.startedBy,
    lastDecision: r.lastDecision,
    decisions: r.decisions.map((d) => ({ ...d, at: d.at.toISOString() })),
    cluster: r.cluster,
  };
}

export function rolloutRoutes(svc: RolloutsService) {
  const app = createRouter();
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "startRollout",
      permission: "rollouts:write",
      path: "/models/{model}/rollouts",
      tags,
      summary: "Start a canary rollout of a version against the production version",
      request: { params: ModelParam, body: jsonBody(RolloutStartSchema) },
      responses: { 201: jsonOk(RolloutSchema, "Started") },
    }),
    async (c) => {
      const b = c.req.valid("json");
      const r = await svc.start(c.get("ctx"), c.req.valid("param").model, b.version, {
        plan: b.plan as never,
        mode: b.mode,
      });
      return c.json(out(r), 201);
    },
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getRollout",
      permission: "registry:read",
      path: "/models/{model}/rollout",
      tags,
      summary: "The model's active rollout, or its last one, with its decisions",
      request: { params: ModelParam },
      responses: { 200: jsonOk(RolloutSchema) },
    }),
    async (c) => {
      const model = c.req.valid("param").model;
      const r = await svc.status(model);
      if (!r) throw notFound(`a rollout of '${model}'`);
      return c.json(out(r), 200);
    },
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getRolloutVerdict",
      permission: "registry:read",
      path: "/models/{model}/rollout/verdict",
      tags,
      summary:
        "promote, hold or rollback for an outside canary (an Argo Rollouts analysis), judged as the rollout controller judges the current step",
      description:
        "The model's rollout of `candidate` (its latest), else its active rollout, else its last. Ended: promoted → promote, rolled back or aborted → rollback. Active: rollback when the controller would roll back now, hold while paused or at a gate, promote when the judge passes the candidate over the step so far or the step, entered on a pass, has no conclusive verdict yet, hold otherwise. See docs/deploy.md.",
      request: { params: ModelParam, query: VerdictQuery },
      responses: { 200: jsonOk(VerdictSchema) },
    }),
    async (c) => {
      const v = await svc.verdict(c.req.valid("param").model, c.req.valid("query").candidate);
      return c.json(
        {
          ...v,
          at: v.at.toISOString(),
          analysis: v.analysis && {
            ...v.analysis,
            window: { from: v.analysis.window.from.toISOString(), to: v.analysis.window.to.toISOString() },
          },
        },
        200,
      );
    },
  );
  for (const action of ["pause", "resume", "abort"] as const) {
    app.openapi(
      apiRoute({
        method: "post",
        operationId:
          action === "pause" ? "pauseRollout" : action === "resume" ? "resumeRollout" : "abortRollout",
        permission: "rollouts:write",
        path: `/models/{model}/rollout/${action}`,
        tags,
        summary: `${action[0]!.toUpperCase()}${action.slice(1)} the model's active rollout`,
        request: { params: ModelParam, body: jsonBody(ReasonSchema) },
        responses: { 200: jsonOk(RolloutSchema) },
      }),
      async (c) => {
        const { model } = c.req.valid("param");
        const { reason } = c.req.valid("json");
        const ctx = c.get("ctx");
        const r =
          action === "pause"
            ? await svc.pause(ctx, model, reason)
            : action === "resume"
              ? await svc.resume(ctx, model)
              : await svc.abort(ctx, model, reason);
        return c.json(out(r!), 200);
      },
    );
  }
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "promoteRollout",
      permission: "rollouts:write",
      path: "/models/{model}/rollout/promote",
      tags,
      summary: "Promote past the current step (a manual gate), or with full: true straight to production",
      request: { params: ModelParam, body: jsonBody(PromoteSchema) },
      responses: { 200: jsonOk(RolloutSchema) },
    }),
    async (c) => {
      const r = await svc.promote(c.get("ctx"), c.req.valid("param").model, {
        full: c.req.valid("json").full,
      });
      return c.json(out(r!), 200);
    },
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "rollbackModel",
      permission: "rollouts:write",
      path: "/models/{model}/rollback",
      tags,
      summary:
        "Return all traffic to the previous production version at once (rolls back an active rollout, else moves production back)",
      request: { params: ModelParam, body: jsonBody(ReasonSchema) },
      responses: { 200: jsonOk(z.object({ model: z.string(), rollout: RolloutSchema.nullable() })) },
    }),
    async (c) => {
      const { model } = c.req.valid("param");
      const r = await svc.rollback(c.get("ctx"), model, c.req.valid("json").reason);
      return c.json({ model, rollout: r ? out(r) : null }, 200);
    },
  );
  return app;
}

const ShadowStartSchema = z
  .object({
    version: SemverString.describe("the version to mirror traffic to"),
    share: z.number().gt(0).max(100).default(100).describe("percent of plain calls mirrored"),
  })
  .strict();
const ShadowReportSchema = z
  .object({
    model: z.string(),
    window: z.string(),
    since: z.string(),
    current: z.object({ version: z.string(), share: z.number() }).nullable(),
    versions: z.array(
      z.object({
        version: z.string(),
        mirrored: z.number().int(),
        errors: z.number().int(),
        compared: z.number().int(),
        agreed: z.number().int(),
        agreementRate: z.number().nullable(),
        // An array of two, not a tuple: a tuple's `prefixItems` is JSON Schema 2020-12, which
        // OpenAPI 3.0 tools and client generators reject.
        agreementCi: z
          .array(z.number())
          .length(2)
          .nullable()
          .describe("95% interval of the agreement rate: [low, high]"),
        shadowP95Ms: z.number().nullable(),
        servedP95Ms: z.number().nullable(),
        shadowCostUsd: z.number(),
        servedCostUsd: z.number(),
      }),
    ),
  })
  .openapi("ShadowReport");
export type ShadowReportView = z.infer<typeof ShadowReportSchema>;

export function shadowRoutes(svc: ShadowService) {
  const app = createRouter();
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "startShadow",
      permission: "rollouts:write",
      path: "/models/{model}/shadow",
      tags,
      summary: "Shadow mode: mirror a share of live traffic to a version; its answers are never returned",
      request: { params: ModelParam, body: jsonBody(ShadowStartSchema) },
      responses: {
        200: jsonOk(
          z.object({ model: z.string(), shadow: z.object({ version: z.string(), share: z.number() }) }),
        ),
      },
    }),
    async (c) => {
      const { model } = c.req.valid("param");
      const b = c.req.valid("json");
      const cfg = await svc.start(c.get("ctx"), model, b.version, b.share);
      return c.json({ model, shadow: cfg.shadow! }, 200);
    },
  );
  app.openapi(
    apiRoute({
      method: "delete",
      operationId: "stopShadow",
      permission: "rollouts:write",
      path: "/models/{model}/shadow",
      tags,
      summary: "Stop mirroring the model's traffic",
      request: { params: ModelParam },
      responses: { 200: jsonOk(z.object({ model: z.string(), shadow: z.null() })) },
    }),
    async (c) => {
      const { model } = c.req.valid("param");
      await svc.stop(c.get("ctx"), model);
      return c.json({ model, shadow: null }, 200);
    },
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getShadowReport",
      permission: "registry:read",
      path: "/models/{model}/shadow",
      tags,
      summary:
        "Agreement of mirrored answers with the served ones, errors, latency and cost, per shadow version",
      request: {
        params: ModelParam,
        query: z.object({ window: z.string().max(10).default("1h").describe("15m, 24h, 7d, …") }),
      },
      responses: { 200: jsonOk(ShadowReportSchema) },
    }),
    async (c) => c.json(await svc.report(c.req.valid("param").model, c.req.valid("query").window), 200),
  );
  return app;
}
