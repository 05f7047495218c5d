import { z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.ts";
import { apiRoute, createRouter, jsonBody, jsonOk, ProblemSchema } from "../../http/openapi.ts";
import { invalid } from "../../lib/errors.ts";
import {
  EvaluationContextSchema,
  FlagChangeRequestSchema,
  FlagInputSchema,
  FlagKey,
  FlagRevisionSchema,
  FlagSchema,
} from "./flags.schemas.ts";
import type { FlagsService } from "./flags.service.ts";

const KeyParam = z.object({ key: FlagKey });
const ReasonQuery = z.object({
  reason: z.string().max(2000).optional().describe("why: kept on the audit event (and on a change request)"),
});
const pending = jsonOk(FlagChangeRequestSchema, "Held for sign-offs: the approval policy governs this flag");
const AsOfQuery = z.object({
  asOf: z.string().datetime({ offset: true }).optional().describe("the flag as it was at this instant"),
});
const ResolutionSchema = z
  .object({
    key: z.string(),
    value: z.unknown().optional(),
    variant: z.string().optional(),
    reason: z.enum(["STATIC", "TARGETING_MATCH", "SPLIT", "DEFAULT", "DISABLED", "ERROR"]),
    errorCode: z.string().optional(),
    errorDetails: z.string().optional(),
  })
  .openapi("FlagResolution");
const tags = ["flags"];
const reasonOf = (q: { reason?: string | undefined }) => (q.reason ? { reason: q.reason } : {});
const ungated = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ProblemSchema } },
});

/** Thin handlers: validate (done by the route), one service call, respond. */
export function flagsRoutes(svc: FlagsService) {
  const app = createRouter();
  const ctx = (c: { get(k: "ctx"): AppEnv["Variables"]["ctx"] }) => c.get("ctx");

  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listFlags",
      summary: "List feature flags",
      permission: "flags:read",
      path: "/flags",
      tags,
      responses: { 200: jsonOk(z.object({ items: z.array(FlagSchema) }).openapi("FlagList")) },
    }),
    async (c) => c.json({ items: await svc.list() }, 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "createFlag",
      summary: "Create a feature flag",
      permission: "flags:write",
      path: "/flags",
      tags,
      request: { body: jsonBody(FlagInputSchema), query: ReasonQuery },
      responses: {
        201: jsonOk(FlagSchema, "Created"),
        202: pending,
        422: ungated("A variant names a version the gateway would not serve"),
      },
    }),
    async (c) => {
      const out = await svc.put(ctx(c), c.req.valid("json"), "create", reasonOf(c.req.valid("query")));
      return out.change === "pending" ? c.json(out.request, 202) : c.json(out.flag, 201);
    },
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getFlag",
      summary: "Get a feature flag",
      permission: "flags:read",
      path: "/flags/{key}",
      tags,
      request: { params: KeyParam, query: AsOfQuery },
      responses: { 200: jsonOk(FlagSchema) },
    }),
    async (c) => c.json(await svc.get(c.req.valid("param").key, c.req.valid("query").asOf), 200),
  );
  app.openapi(
    apiRoute({
      method: "put",
      operationId: "updateFlag",
      summary: "Replace a feature flag's definition",
      permission: "flags:write",
      path: "/flags/{key}",
      tags,
      request: { params: KeyParam, body: jsonBody(FlagInputSchema), query: ReasonQuery },
      responses: {
        200: jsonOk(FlagSchema, "Updated or unchanged"),
        201: jsonOk(FlagSchema, "Created"),
        202: pending,
        422: ungated("A variant names a version the gateway would not serve"),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      if (body.key !== c.req.valid("param").key)
        throw invalid("body.key", "differs from the key in the path");
      const out = await svc.put(ctx(c), body, "upsert", reasonOf(c.req.valid("query")));
      if (out.change === "pending") return c.json(out.request, 202);
      return c.json(out.flag, out.change === "created" ? 201 : 200);
    },
  );
  app.openapi(
    apiRoute({
      method: "delete",
      operationId: "deleteFlag",
      summary: "Delete a feature flag",
      permission: "flags:write",
      path: "/flags/{key}",
      tags,
      request: { params: KeyParam, query: ReasonQuery },
      responses: { 202: pending, 204: { description: "Deleted (its history stays)" } },
    }),
    async (c) => {
      const held = await svc.remove(ctx(c), c.req.valid("param").key, c.req.valid("query").reason);
      return held ? c.json(held, 202) : c.body(null, 204);
    },
  );
  for (const action of ["enable", "disable"] as const)
    app.openapi(
      apiRoute({
        method: "post",
        operationId: action === "enable" ? "enableFlag" : "disableFlag",
        summary: action === "enable" ? "Enable a feature flag" : "Disable a feature flag",
        permission: "flags:write",
        path: `/flags/{key}/${action}`,
        tags,
        request: { params: KeyParam, query: ReasonQuery },
        responses: {
          200: jsonOk(FlagSchema),
          202: pending,
          422: ungated("Enabling: a variant names a version the gateway would not serve"),
        },
      }),
      async (c) => {
        const p = c.req.valid("param");
        const out = await svc.setEnabled(ctx(c), p.key, action === "enable", c.req.valid("query").reason);
        return "pending" in out ? c.json(out.pending, 202) : c.json(out, 200);
      },
    );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listFlagHistory",
      summary: "A flag's changes, oldest first",
      permission: "flags:read",
      path: "/flags/{key}/history",
      tags,
      request: { params: KeyParam },
      responses: { 200: jsonOk(z.object({ items: z.array(FlagRevisionSchema) }).openapi("FlagHistory")) },
    }),
    async (c) => c.json({ items: await svc.history(c.req.valid("param").key) }, 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "evaluateFlag",
      summary: "Evaluate a flag for a context (what the gateway or an SDK would get, and why)",
      permission: "flags:evaluate",
      path: "/flags/{key}/evaluate",
      tags,
      request: {
        params: KeyParam,
        body: jsonBody(
          z.object({ context: EvaluationContextSchema.default({}) }).openapi("FlagEvaluationRequest"),
        ),
      },
      responses: { 200: jsonOk(ResolutionSchema) },
    }),
    async (c) => {
      const r = await svc.evaluate(c.req.valid("param").key, c.req.valid("json").context);
      return c.json({ ...r, value: r.value as unknown }, 200);
    },
  );
  return app;
}
