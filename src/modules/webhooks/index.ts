export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "./backoff.ts";
export {
  createWebhookDispatcher,
  type DispatcherOptions,
  matchesEventType,
  type PassResult,
  type WebhookDispatcher,
} from "./dispatcher.ts";
export { createWebhookEgress, type WebhookEgress } from "./egress.ts";
export {
  ID_HEADER,
  LEGACY_SIGNATURE_HEADER,
  LEGACY_TIMESTAMP_HEADER,
  SIGNATURE_HEADER,
  signatureHeaders,
  signWebhook,
  standardSecretOf,
  TIMESTAMP_HEADER,
  verifyWebhook,
  webhookKey,
} from "./signature.ts";
export { registerWebhookMetrics } from "./webhooks.metrics.ts";
export { webhookRoutes } from "./webhooks.routes.ts";
export type {
  Delivery,
  DeliveryQuerySchema,
  Webhook,
  WebhookCreate,
  WebhookCreated,
  WebhookCreateSchema,
} from "./webhooks.schemas.ts";
export { createWebhooksService, type WebhooksService } from "./webhooks.service.ts";
