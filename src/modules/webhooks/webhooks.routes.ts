import { z } from "@hono/zod-openapi";
import { apiRoute, createRouter, jsonBody, jsonOk } from "../../http/openapi.ts";
import {
  DeliveryParam,
  DeliveryQuerySchema,
  DeliverySchema,
  WebhookCreatedSchema,
  WebhookCreateSchema,
  WebhookParam,
  WebhookSchema,
} from "./webhooks.schemas.ts";
import type { WebhooksService } from "./webhooks.service.ts";

const tags = ["webhooks"];

export function webhookRoutes(svc: WebhooksService) {
  const app = createRouter();
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "createWebhook",
      permission: "webhooks:admin",
      path: "/webhooks",
      tags,
      summary: "Subscribe a URL to event types; the signing secret is in this response only",
      request: { body: jsonBody(WebhookCreateSchema) },
      responses: { 201: jsonOk(WebhookCreatedSchema, "Created") },
    }),
    async (c) => c.json(await svc.create(c.get("ctx"), c.req.valid("json")), 201),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listWebhooks",
      summary: "List webhook subscriptions",
      permission: "webhooks:admin",
      path: "/webhooks",
      tags,
      responses: { 200: jsonOk(z.array(WebhookSchema)) },
    }),
    async (c) => c.json(await svc.list(), 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "disableWebhook",
      permission: "webhooks:admin",
      path: "/webhooks/{id}/disable",
      tags,
      summary: "Stop deliveries for good; pending ones become failed",
      request: { params: WebhookParam },
      responses: { 200: jsonOk(WebhookSchema) },
    }),
    async (c) => c.json(await svc.disable(c.get("ctx"), c.req.valid("param").id), 200),
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listWebhookDeliveries",
      permission: "webhooks:admin",
      path: "/webhooks/{id}/deliveries",
      tags,
      summary: "Recent deliveries, newest event first, with attempts and the last error",
      request: { params: WebhookParam, query: DeliveryQuerySchema },
      responses: { 200: jsonOk(z.array(DeliverySchema)) },
    }),
    async (c) => c.json(await svc.deliveries(c.req.valid("param").id, c.req.valid("query")), 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "retryWebhookDelivery",
      permission: "webhooks:admin",
      path: "/webhooks/{id}/deliveries/{deliveryId}/retry",
      tags,
      summary: "Re-queue a failed delivery with a fresh attempt budget",
      request: { params: DeliveryParam },
      responses: { 200: jsonOk(DeliverySchema) },
    }),
    async (c) => {
      const { id, deliveryId } = c.req.valid("param");
      return c.json(await svc.retry(c.get("ctx"), id, deliveryId), 200);
    },
  );
  return app;
}
