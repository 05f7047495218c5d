import { z } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.ts";
import { apiRoute, createRouter, jsonBody, jsonOk } from "../../http/openapi.ts";
import { FlagChangeRequestSchema, FlagChangeSignSchema, FlagKey } from "./flags.schemas.ts";
import type { FlagsService } from "./flags.service.ts";

const IdParam = z.object({ id: z.string().regex(/^fcr_[a-f0-9]{20}$/, "a flag change id (fcr_…)") });
const ListQuery = z.object({
  key: FlagKey.optional().describe("this flag's changes only"),
  status: z.enum(["pending", "applied", "rejected", "withdrawn", "superseded", "lapsed"]).optional(),
});
const tags = ["flags"];
const List = z.object({ items: z.array(FlagChangeRequestSchema) }).openapi("FlagChangeRequestList");

/** Flag changes held for sign-offs (the approval policy's flagChanges rules), and the segment check. */
export function flagChangeRoutes(svc: FlagsService) {
  const app = createRouter();
  const ctx = (c: { get(k: "ctx"): AppEnv["Variables"]["ctx"] }) => c.get("ctx");

  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listFlagChanges",
      summary: "List flag changes waiting for (or past) their sign-offs",
      permission: "flags:read",
      path: "/flag-changes",
      tags,
      request: { query: ListQuery },
      responses: { 200: jsonOk(List) },
    }),
    async (c) => c.json({ items: await svc.changes.list(c.req.valid("query")) }, 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getFlagChange",
      summary: "Get a proposed flag change",
      permission: "flags:read",
      path: "/flag-changes/{id}",
      tags,
      request: { params: IdParam },
      responses: { 200: jsonOk(FlagChangeRequestSchema) },
    }),
    async (c) => c.json(await svc.changes.get(c.req.valid("param").id), 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "signFlagChange",
      summary: "Sign a proposed flag change (applied once its sign-offs are complete)",
      permission: "approvals:sign",
      path: "/flag-changes/{id}/sign",
      tags,
      request: { params: IdParam, body: jsonBody(FlagChangeSignSchema) },
      responses: {
        200: jsonOk(FlagChangeRequestSchema, "Signed; applied when it was the last sign-off needed"),
      },
    }),
    async (c) => c.json(await svc.changes.sign(ctx(c), c.req.valid("param").id, c.req.valid("json")), 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "withdrawFlagChange",
      summary: "Withdraw a proposed flag change",
      permission: "flags:write",
      path: "/flag-changes/{id}/withdraw",
      tags,
      request: { params: IdParam },
      responses: { 200: jsonOk(FlagChangeRequestSchema) },
    }),
    async (c) => c.json(await svc.changes.withdraw(ctx(c), c.req.valid("param").id), 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listFlagViolations",
      summary: "Flags the segment gate refuses as things stand now",
      permission: "flags:read",
      path: "/flag-violations",
      tags,
      responses: {
        200: jsonOk(
          z
            .object({
              items: z.array(
                z.object({
                  key: z.string(),
                  errors: z.array(z.object({ field: z.string(), reason: z.string() })),
                }),
              ),
            })
            .openapi("FlagViolations"),
          "Flags the segment gate refuses as things stand now (an evaluation run or an approval moved since they were written)",
        ),
      },
    }),
    async (c) => c.json({ items: await svc.violations() }, 200),
  );
  return app;
}
