import { z } from "@hono/zod-openapi";
import { apiRoute, createRouter, jsonBody, jsonOk } from "../../http/openapi.ts";
import { type RegistryService, SemverString, Slug } from "../registry/index.ts";
import {
  ApprovalPolicySchema,
  ApprovalPolicyWriteSchema,
  ApprovalRequestSchema,
  EvidenceCreateSchema,
  EvidenceSchema,
  PolicyWriteQuerySchema,
  PolicyWriteResultSchema,
  RequestCreateSchema,
  SignoffSchema,
  SignSchema,
} from "./approvals.schemas.ts";
import type { ApprovalsService } from "./approvals.service.ts";

const VersionParam = z.object({ model: Slug, version: SemverString });
const tags = ["approvals"];
export const ApprovalListQuerySchema = z.object({
  model: Slug.optional(),
  version: SemverString.optional(),
  status: z.enum(["pending", "approved", "rejected", "voided"]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
const InForceSchema = z.object({
  requestId: z.string(),
  version: z.string(),
  requestedBy: z.string(),
  approvedAt: z.string().nullable(),
  summary: z.string(),
  signoffs: z.array(SignoffSchema),
  cardHash: z.string().nullable(),
  evidence: z.array(
    z.object({ id: z.string(), kind: z.string(), contentHash: z.string(), passed: z.boolean().nullable() }),
  ),
});

export function approvalRoutes(svc: ApprovalsService, registry: RegistryService) {
  const app = createRouter();
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getApprovalPolicy",
      summary: "Get the approval policy",
      permission: "approvals:read",
      path: "/approvals/policy",
      tags,
      responses: { 200: jsonOk(ApprovalPolicySchema) },
    }),
    async (c) => c.json(await svc.getPolicy(), 200),
  );
  app.openapi(
    apiRoute({
      method: "put",
      operationId: "setApprovalPolicy",
      summary: "Set the approval policy",
      permission: "policy:admin",
      path: "/approvals/policy",
      tags,
      request: { body: jsonBody(ApprovalPolicyWriteSchema), query: PolicyWriteQuerySchema },
      responses: { 200: jsonOk(PolicyWriteResultSchema) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(
        await svc.writePolicy(c.get("ctx"), c.req.valid("json"), {
          dryRun: q.dryRun === "true",
          allowRemovals: q.allowRemovals === "true",
        }),
        200,
      );
    },
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getApprovalRequirements",
      summary: "What the approval policy requires of a version, and what is still missing",
      permission: "approvals:read",
      path: "/models/{model}/versions/{version}/approval-requirements",
      tags,
      request: { params: VersionParam },
      responses: { 200: jsonOk(ApprovalRequestSchema.shape.requirements) },
    }),
    async (c) =>
      c.json(await svc.requirements(c.req.valid("param").model, c.req.valid("param").version), 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "attachEvidence",
      permission: "registry:write",
      path: "/models/{model}/versions/{version}/evidence",
      tags,
      summary: "Attach benchmark or fairness evidence by reference and content hash",
      request: { params: VersionParam, body: jsonBody(EvidenceCreateSchema) },
      responses: { 201: jsonOk(EvidenceSchema, "Attached") },
    }),
    async (c) => {
      const p = c.req.valid("param");
      return c.json(await svc.attachEvidence(c.get("ctx"), p.model, p.version, c.req.valid("json")), 201);
    },
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listEvidence",
      summary: "List a version's evidence",
      permission: "approvals:read",
      path: "/models/{model}/versions/{version}/evidence",
      tags,
      request: { params: VersionParam },
      responses: { 200: jsonOk(z.array(EvidenceSchema)) },
    }),
    async (c) =>
      c.json(await svc.listEvidence(c.req.valid("param").model, c.req.valid("param").version), 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "requestApproval",
      permission: "approvals:request",
      path: "/models/{model}/versions/{version}/approvals",
      tags,
      summary: "Request approval for a version",
      request: { params: VersionParam, body: jsonBody(RequestCreateSchema) },
      responses: {
        201: jsonOk(ApprovalRequestSchema, "Requested"),
        412: { description: "The card blocks approval" },
      },
    }),
    async (c) => {
      const p = c.req.valid("param");
      return c.json(
        await svc.request(
          c.get("ctx"),
          p.model,
          p.version,
          c.req.valid("json").summary,
          c.req.valid("json").evidenceRefs,
        ),
        201,
      );
    },
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listApprovalInbox",
      permission: "approvals:sign",
      path: "/approvals/inbox",
      tags,
      summary: "Pending requests the caller's roles can sign",
      responses: { 200: jsonOk(z.array(ApprovalRequestSchema.extend({ canSignAs: z.array(z.string()) }))) },
    }),
    async (c) => c.json(await svc.inbox(c.get("ctx")), 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listApprovals",
      summary: "List approval requests",
      permission: "approvals:read",
      path: "/approvals",
      tags,
      request: {
        query: ApprovalListQuerySchema,
      },
      responses: { 200: jsonOk(z.array(ApprovalRequestSchema)) },
    }),
    async (c) => c.json(await svc.list(c.req.valid("query")), 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getApproval",
      summary: "Get an approval request with its sign-offs",
      permission: "approvals:read",
      path: "/approvals/{id}",
      tags,
      request: { params: z.object({ id: z.string().max(100) }) },
      responses: { 200: jsonOk(ApprovalRequestSchema) },
    }),
    async (c) => c.json(await svc.get(c.req.valid("param").id), 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "signApproval",
      permission: "approvals:sign",
      path: "/approvals/{id}/signoffs",
      tags,
      summary: "Approve or reject, as one of your roles",
      request: { params: z.object({ id: z.string().max(100) }), body: jsonBody(SignSchema) },
      responses: { 200: jsonOk(ApprovalRequestSchema) },
    }),
    async (c) => c.json(await svc.sign(c.get("ctx"), c.req.valid("param").id, c.req.valid("json")), 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getModelAsOf",
      permission: "audit:read",
      path: "/models/{model}/as-of",
      tags: ["audit"],
      summary:
        "The model at a past time: production, aliases, statuses, and the approvals in force with their evidence",
      request: {
        params: z.object({ model: Slug }),
        query: z.object({ at: z.string().datetime({ offset: true }) }),
      },
      responses: {
        200: jsonOk(
          z
            .object({
              model: z.string(),
              at: z.string(),
              production: z.string().nullable(),
              aliases: z.record(z.string(), z.string()),
              versions: z.array(z.object({ version: z.string(), status: z.string() })),
              approvals: z.array(InForceSchema),
            })
            .openapi("ModelAsOf"),
        ),
      },
    }),
    async (c) => {
      const { model } = c.req.valid("param");
      const at = c.req.valid("query").at;
      const state = await registry.stateAt(model, at);
      const m = await registry.getModel(model);
      return c.json({ ...state, approvals: await svc.inForceAt(m.id, new Date(at)) }, 200);
    },
  );
  return app;
}
