import { z } from "@hono/zod-openapi";
import { apiRoute, createRouter, jsonBody, jsonOk } from "../../http/openapi.ts";
import { SemverString, Slug } from "../registry/index.ts";
import type { EvalsService } from "./evals.service.ts";

const tags = ["evaluations"];
const VersionParam = z.object({ model: Slug, version: SemverString });
const RunParam = z.object({ id: z.string().regex(/^evr_[A-Za-z0-9]+$/, "an evaluation run id (evr_…)") });
const AttributeSet = z.array(z.string().regex(/^[a-z][a-z0-9_]{0,49}$/)).min(2);

export const EvalStartSchema = z
  .object({
    suite: z
      .record(z.string(), z.unknown())
      .describe("the suite as parsed from its YAML file, cases inline (the CLI inlines casesFile)"),
    concurrency: z.number().int().min(1).max(64).default(8),
    maxAttempts: z.number().int().min(1).max(10).default(3).describe("attempts per call, the first included"),
    outputs: z.enum(["text", "hash"]).default("text").describe("keep each answer, or only its SHA-256"),
    intersections: z.array(AttributeSet).max(20).default([]),
    minGroupSize: z.number().int().min(1).max(100_000).default(30),
  })
  .strict()
  .openapi("EvalStart");

export const EvalListQuerySchema = z.object({
  model: Slug.optional(),
  version: SemverString.optional(),
  status: z.enum(["running", "completed", "failed", "cancelled"]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export const EvalCasesQuerySchema = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});

const Acceptance = z.object({ by: z.string(), justification: z.string(), at: z.string() }).nullable();

export const EvalRunSchema = z
  .object({
    id: z.string(),
    model: z.string(),
    version: z.string(),
    suiteName: z.string(),
    suiteHash: z.string(),
    status: z.enum(["running", "completed", "failed", "cancelled"]),
    options: z.record(z.string(), z.unknown()),
    total: z.number(),
    done: z.number(),
    createdBy: z.string(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    reportHash: z.string().nullable(),
    report: z.record(z.string(), z.unknown()).nullable().describe("aggregate, groups, intervals, gates"),
    needsReview: z.boolean().describe("a fairness gate failed and nobody accepted the disparity yet"),
    acceptance: Acceptance,
    error: z.string().nullable(),
    resumed: z.boolean().optional().describe("the same version and suite had an unfinished run: it goes on"),
    routing: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        "a completed run of a router version: per tier and overall, each tier alone on the suite, the cost-quality curve over the threshold (docs/routing.md)",
      ),
  })
  .openapi("EvalRun");

const CaseSchema = z
  .object({
    seq: z.number(),
    caseId: z.string(),
    passed: z.boolean(),
    score: z.number(),
    safetyViolation: z.boolean(),
    output: z.string().nullable(),
    outputHash: z.string().nullable(),
    latencyMs: z.number(),
    tokensIn: z.number(),
    tokensOut: z.number(),
    costUsd: z.number(),
    attempts: z.number(),
    error: z.string().nullable().optional(),
    scorers: z.array(
      z.object({ kind: z.string(), score: z.number(), passed: z.boolean(), reason: z.string() }),
    ),
    attributes: z.record(z.string(), z.string()),
    recordedAt: z.string(),
    route: z
      .object({
        tier: z.string(),
        why: z.string(),
        versionId: z.string(),
        score: z.number().optional(),
        tiers: z.array(z.object({ tier: z.string(), outcome: z.string() })).optional(),
      })
      .nullable()
      .optional()
      .describe("a router version's case: the tier that answered, why, and the router's score"),
  })
  .openapi("EvalCase");

const CompareSchema = z
  .object({
    suite: z.string(),
    suiteHash: z.string(),
    a: z.record(z.string(), z.unknown()),
    b: z.record(z.string(), z.unknown()),
    pairs: z.number(),
    bothPassed: z.number(),
    bothFailed: z.number(),
    onlyA: z.number(),
    onlyB: z.number(),
    flips: z.array(
      z.object({ caseId: z.string(), from: z.enum(["pass", "fail"]), to: z.enum(["pass", "fail"]) }),
    ),
    unpaired: z.array(z.string()),
    mcNemar: z.record(z.string(), z.unknown()),
    significant: z.boolean(),
    alpha: z.number(),
  })
  .openapi("EvalComparison");

const runOut = (r: Awaited<ReturnType<EvalsService["get"]>> & { resumed?: boolean }) => ({
  ...r,
  options: r.options as unknown as Record<string, unknown>,
  report: r.report as unknown as Record<string, unknown> | null,
  ...(r.routing ? { routing: r.routing as unknown as Record<string, unknown> } : {}),
});

export function evalRoutes(svc: EvalsService) {
  const app = createRouter();
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "startEval",
      permission: "evals:run",
      path: "/models/{model}/versions/{version}/evals",
      tags,
      summary:
        "Evaluate a version on a suite (runs on the server); an unfinished run of the same version and suite resumes",
      request: { params: VersionParam, body: jsonBody(EvalStartSchema) },
      responses: { 201: jsonOk(EvalRunSchema, "Started"), 200: jsonOk(EvalRunSchema, "Resumed") },
    }),
    async (c) => {
      const { model, version } = c.req.valid("param");
      const { suite, ...opts } = c.req.valid("json");
      const run = await svc.start(c.get("ctx"), model, version, suite, opts);
      return c.json(runOut(run), run.resumed ? 200 : 201);
    },
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listEvals",
      permission: "registry:read",
      path: "/evals",
      tags,
      summary: "Evaluation runs, newest first",
      request: {
        query: EvalListQuerySchema,
      },
      responses: { 200: jsonOk(z.object({ runs: z.array(EvalRunSchema) })) },
    }),
    async (c) => c.json({ runs: (await svc.list(c.req.valid("query"))).map(runOut) }, 200),
  );
  // Before /evals/{id}, which would take "compare" for an id.
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "compareEvals",
      permission: "registry:read",
      path: "/evals/compare",
      tags,
      summary: "Two runs of the same suite, paired case by case: the flips and McNemar's test",
      request: {
        query: z.object({
          a: RunParam.shape.id,
          b: RunParam.shape.id,
          alpha: z.coerce.number().gt(0).lt(1).default(0.05),
        }),
      },
      responses: { 200: jsonOk(CompareSchema) },
    }),
    async (c) => {
      const { a, b, alpha } = c.req.valid("query");
      const out = await svc.compare(a, b, alpha);
      return c.json({ ...out, mcNemar: out.mcNemar as unknown as Record<string, unknown> }, 200);
    },
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getEval",
      permission: "registry:read",
      path: "/evals/{id}",
      tags,
      summary: "A run: progress, and once completed its report (aggregate, groups, intervals, gates)",
      request: { params: RunParam },
      responses: { 200: jsonOk(EvalRunSchema) },
    }),
    async (c) => c.json(runOut(await svc.get(c.req.valid("param").id)), 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listEvalCases",
      permission: "registry:read",
      path: "/evals/{id}/cases",
      tags,
      summary: "A run's recorded cases in recording order (page with `after`)",
      request: {
        params: RunParam,
        query: EvalCasesQuerySchema,
      },
      responses: { 200: jsonOk(z.object({ cases: z.array(CaseSchema) })) },
    }),
    async (c) => c.json({ cases: await svc.cases(c.req.valid("param").id, c.req.valid("query")) }, 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "cancelEval",
      permission: "evals:run",
      path: "/evals/{id}/cancel",
      tags,
      summary: "Stop a running evaluation; recorded cases stay",
      request: {
        params: RunParam,
        body: jsonBody(z.object({ reason: z.string().min(1).max(2000) }).strict()),
      },
      responses: { 200: jsonOk(EvalRunSchema) },
    }),
    async (c) =>
      c.json(
        runOut(await svc.cancel(c.get("ctx"), c.req.valid("param").id, c.req.valid("json").reason)),
        200,
      ),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "acceptEvalDisparity",
      permission: "evals:accept",
      path: "/evals/{id}/accept-disparity",
      tags,
      summary:
        "Accept a run's failing fairness gate with a written justification (audited; not by the run's author or the version's)",
      request: {
        params: RunParam,
        body: jsonBody(
          z
            .object({
              justification: z
                .string()
                .min(20, "write at least 20 characters: why the disparity is acceptable, for the audit log")
                .max(5000),
            })
            .strict(),
        ),
      },
      responses: { 200: jsonOk(EvalRunSchema) },
    }),
    async (c) =>
      c.json(
        runOut(
          await svc.acceptDisparity(c.get("ctx"), c.req.valid("param").id, c.req.valid("json").justification),
        ),
        200,
      ),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getLatestEval",
      permission: "registry:read",
      path: "/models/{model}/versions/{version}/evals/latest",
      tags,
      summary: "The version's latest completed run of a suite (by its hash)",
      request: {
        params: VersionParam,
        query: z.object({ suiteHash: z.string().regex(/^sha256:[a-f0-9]{64}$/) }),
      },
      responses: { 200: jsonOk(z.object({ run: EvalRunSchema.nullable() })) },
    }),
    async (c) => {
      const { model, version } = c.req.valid("param");
      const run = await svc.latestCompleted(model, version, c.req.valid("query").suiteHash);
      return c.json({ run: run ? runOut(run) : null }, 200);
    },
  );
  return app;
}
