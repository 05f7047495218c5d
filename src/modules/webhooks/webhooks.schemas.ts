import { z } from "@hono/zod-openapi";

/** An action name (`version.status_changed`), a prefix pattern (`approval.*`) or `*` for everything. */
export const EventTypePattern = z
  .string()
  .max(100)
  .regex(
    /^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$/,
    "an action name like version.status_changed, a prefix pattern like approval.*, or *",
  );

const WebhookUrl = z
  .string()
  .max(2000)
  .url()
  // zod runs this even when .url() failed, so an unparsable string is left to .url() to report.
  .refine((u) => !URL.canParse(u) || /^https?:$/.test(new URL(u).protocol), "must be an http or https URL");

export const WebhookCreateSchema = z
  .object({
    name: z.string().min(1).max(100).optional().describe("defaults to the URL's host"),
    url: WebhookUrl,
    eventTypes: z.array(EventTypePattern).min(1).max(50),
  })
  .strict()
  .openapi("WebhookCreate");
export type WebhookCreate = z.infer<typeof WebhookCreateSchema>;

export const WebhookSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    url: z.string(),
    eventTypes: z.array(z.string()),
    active: z.boolean(),
    secretPrefix: z.string().describe("the first characters of the signing secret, to recognise it"),
    legacySignature: z
      .boolean()
      .describe(
        "created before Standard Webhooks: its deliveries also carry the old x-modelgov-timestamp and x-modelgov-signature headers (docs/webhooks.md, Upgrading)",
      ),
    createdBy: z.string(),
    createdAt: z.string(),
    disabledAt: z.string().nullable(),
    disabledBy: z.string().nullable(),
  })
  .openapi("Webhook");
export type Webhook = z.infer<typeof WebhookSchema>;

export const WebhookCreatedSchema = WebhookSchema.extend({
  secret: z
    .string()
    .describe(
      "the Standard Webhooks signing secret (whsec_ + base64 of the key): shown only in this response",
    ),
}).openapi("WebhookCreated");
export type WebhookCreated = z.infer<typeof WebhookCreatedSchema>;

export const DeliveryStatus = z.enum(["pending", "delivered", "failed"]);

export const DeliverySchema = z
  .object({
    id: z.string(),
    subscriptionId: z.string(),
    seq: z.number().int().describe("the event's outbox sequence number"),
    auditId: z.string(),
    eventType: z.string(),
    status: DeliveryStatus,
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable().describe("when a pending delivery is next tried"),
    lastAttemptAt: z.string().nullable(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("WebhookDelivery");
export type Delivery = z.infer<typeof DeliverySchema>;

export const DeliveryQuerySchema = z.object({
  status: DeliveryStatus.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type DeliveryQuery = z.infer<typeof DeliveryQuerySchema>;

export const WebhookParam = z.object({ id: z.string().max(100) });
export const DeliveryParam = WebhookParam.extend({ deliveryId: z.string().max(100) });
