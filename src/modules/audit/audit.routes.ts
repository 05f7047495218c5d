import { z } from "@hono/zod-openapi";
import { apiRoute, createRouter, jsonOk } from "../../http/openapi.ts";
import {
  AuditPageSchema,
  AuditQuerySchema,
  CheckpointOutcomeSchema,
  PublicKeySchema,
  VerifyResultSchema,
} from "./audit.schemas.ts";
import type { AuditService } from "./audit.service.ts";

const tags = ["audit"];

/** Pulls lines from the generator only as fast as the client reads them. */
function toStream(lines: AsyncGenerator<string>): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await lines.next();
      if (next.done) controller.close();
      else controller.enqueue(enc.encode(next.value));
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
}

export function auditRoutes(svc: AuditService) {
  const app = createRouter();
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listAuditEvents",
      permission: "audit:read",
      path: "/audit/events",
      tags,
      summary: "Audit events by subject, actor, action and time",
      request: { query: AuditQuerySchema },
      responses: { 200: jsonOk(AuditPageSchema) },
    }),
    async (c) => c.json(await svc.events(c.req.valid("query")), 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "verifyAuditChain",
      permission: "audit:read",
      path: "/audit/verify",
      tags,
      summary: "Recompute the hash chain and check it against the server's signed checkpoints",
      responses: { 200: jsonOk(VerifyResultSchema) },
    }),
    async (c) => c.json(await svc.verify(), 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "exportAuditLog",
      permission: "audit:read",
      path: "/audit/export",
      tags,
      summary: "The whole log as JSON Lines: a header, every event, then the signed checkpoints",
      responses: {
        200: { description: "JSON Lines", content: { "application/jsonl": { schema: z.string() } } },
      },
    }),
    async (c) =>
      // The route typing reads any application/*json* content as one JSON document; this
      // body is a stream of them, so the typed-response check does not apply.
      c.body(toStream(svc.exportLines()), 200, {
        "content-type": "application/jsonl; charset=utf-8",
        "content-disposition": 'attachment; filename="modelgov-audit.jsonl"',
      }) as never,
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getAuditPublicKey",
      permission: "audit:read",
      path: "/audit/public-key",
      tags,
      summary: "The Ed25519 public key that checkpoint signatures verify under",
      responses: { 200: jsonOk(PublicKeySchema) },
    }),
    (c) => c.json(svc.publicKey(), 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "createAuditCheckpoint",
      permission: "policy:admin",
      path: "/audit/checkpoints",
      tags,
      summary: "Sign the chain head now and send it to the checkpoint sinks (file, webhook, stdout)",
      responses: { 200: jsonOk(CheckpointOutcomeSchema) },
    }),
    async (c) => c.json(await svc.checkpoint(), 200),
  );
  return app;
}
