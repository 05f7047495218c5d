import { z } from "@hono/zod-openapi";
import { apiRoute, createRouter, jsonBody, jsonOk } from "../../http/openapi.ts";
import { invalid } from "../../lib/errors.ts";
import { SemverString, Slug } from "../registry/index.ts";
import { CardContentSchema, SectionKeySchema } from "./card-sections.ts";
import type { CardsService } from "./cards.service.ts";

const VersionParam = z.object({ model: Slug, version: SemverString });
// Revisions are PostgreSQL integers: a larger number is a 400 here, not a 500 from the store.
const RevisionQuery = z.object({ revision: z.coerce.number().int().min(1).max(2_147_483_647).optional() });
const ValidationSchema = z
  .object({
    complete: z.boolean(),
    required: z.array(SectionKeySchema),
    missing: z.array(
      z.object({
        section: SectionKeySchema,
        title: z.string(),
        reason: z.enum(["absent", "empty", "placeholder"]),
      }),
    ),
  })
  .openapi("CardValidation");
const RevisionMeta = {
  id: z.string(),
  versionId: z.string(),
  revision: z.number().int(),
  contentHash: z.string(),
  source: z.enum(["api", "huggingface", "spec", "demo", "evaluation"]),
  createdBy: z.string(),
  createdAt: z.string(),
};
const CardViewSchema = z
  .object({
    ...RevisionMeta,
    model: z.string(),
    version: z.string(),
    content: CardContentSchema,
    validation: ValidationSchema,
    changed: z.boolean().optional(),
  })
  .openapi("ModelCard");
const tags = ["cards"];
const base = "/models/{model}/versions/{version}/card";

export function cardRoutes(svc: CardsService) {
  const app = createRouter();

  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getCard",
      summary: "Get a version's model card (its latest revision)",
      permission: "registry:read",
      path: base,
      tags,
      request: { params: VersionParam, query: RevisionQuery },
      responses: { 200: jsonOk(CardViewSchema) },
    }),
    async (c) => {
      const p = c.req.valid("param");
      return c.json(await svc.get(p.model, p.version, c.req.valid("query").revision), 200);
    },
  );
  app.openapi(
    apiRoute({
      method: "put",
      operationId: "putCard",
      permission: "registry:write",
      path: base,
      tags,
      summary: "Archive a new card revision (an unchanged card returns the latest, changed: false)",
      request: { params: VersionParam, body: jsonBody(CardContentSchema) },
      responses: { 200: jsonOk(CardViewSchema) },
    }),
    async (c) => {
      const p = c.req.valid("param");
      return c.json(await svc.save(c.get("ctx"), p.model, p.version, c.req.valid("json")), 200);
    },
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listCardRevisions",
      summary: "List a card's revisions, newest first",
      permission: "registry:read",
      path: `${base}/revisions`,
      tags,
      request: { params: VersionParam },
      responses: { 200: jsonOk(z.array(z.object(RevisionMeta))) },
    }),
    async (c) => c.json(await svc.revisions(c.req.valid("param").model, c.req.valid("param").version), 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "validateCard",
      summary: "Validate a version's model card",
      permission: "registry:read",
      path: `${base}/validation`,
      tags,
      request: { params: VersionParam },
      responses: { 200: jsonOk(ValidationSchema.extend({ revision: z.number().int().nullable() })) },
    }),
    async (c) => c.json(await svc.validate(c.req.valid("param").model, c.req.valid("param").version), 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "importCard",
      permission: "registry:write",
      path: `${base}/import`,
      tags,
      summary: "Import a Hugging Face model card (YAML front matter + Markdown)",
      request: {
        params: VersionParam,
        body: { required: true, content: { "text/markdown": { schema: z.string() } } },
      },
      responses: { 200: jsonOk(CardViewSchema) },
    }),
    async (c) => {
      const p = c.req.valid("param");
      const text = await c.req.text();
      if (!text.trim())
        throw invalid("body", "empty card: send the README.md of a Hugging Face model as text/markdown");
      return c.json(await svc.importHuggingFace(c.get("ctx"), p.model, p.version, text), 200);
    },
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "exportCard",
      permission: "registry:read",
      path: `${base}/export`,
      tags,
      summary: "Export the card in Hugging Face format",
      request: { params: VersionParam, query: RevisionQuery },
      responses: {
        200: { description: "Hugging Face card", content: { "text/markdown": { schema: z.string() } } },
      },
    }),
    async (c) => {
      const p = c.req.valid("param");
      const md = await svc.exportHuggingFace(p.model, p.version, c.req.valid("query").revision);
      return c.body(md, 200, { "content-type": "text/markdown; charset=utf-8" });
    },
  );
  return app;
}
