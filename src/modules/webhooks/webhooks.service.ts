import { randomBytes } from "node:crypto";
import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { conflict, invalid, notFound } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";
import type { Db, Queryable } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import { webhookKey } from "./signature.ts";
import type { Delivery, DeliveryQuery, Webhook, WebhookCreate, WebhookCreated } from "./webhooks.schemas.ts";

type Row = Record<string, unknown>;
const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : null);

const toWebhook = (r: Row): Webhook => ({
  id: r.id as string,
  name: r.name as string,
  url: r.url as string,
  eventTypes: r.event_types as string[],
  active: r.active as boolean,
  // A migrated secret is shown by the text its operator was given (standardSecretOf undone).
  secretPrefix: `${(r.legacy_signature ? webhookKey(r.secret as string).toString("utf8") : (r.secret as string)).slice(0, 10)}…`,
  legacySignature: r.legacy_signature === true,
  createdBy: r.created_by as string,
  createdAt: iso(r.created_at)!,
  disabledAt: iso(r.disabled_at),
  disabledBy: (r.disabled_by as string | null) ?? null,
});

export const toDelivery = (r: Row): Delivery => ({
  id: r.id as string,
  subscriptionId: r.subscription_id as string,
  seq: Number(r.outbox_seq),
  auditId: r.audit_id as string,
  eventType: r.event_type as string,
  status: r.status as Delivery["status"],
  attempts: r.attempts as number,
  nextAttemptAt: r.status === "pending" ? iso(r.next_attempt_at) : null,
  lastAttemptAt: iso(r.last_attempt_at),
  lastStatusCode: (r.last_status_code as number | null) ?? null,
  lastError: (r.last_error as string | null) ?? null,
  deliveredAt: iso(r.delivered_at),
  createdAt: iso(r.created_at)!,
});

const DELIVERY_COLUMNS = `id, subscription_id, outbox_seq, audit_id, event_type, status, attempts, next_attempt_at,
  last_attempt_at, last_status_code, last_error, delivered_at, created_at`;

async function findSubscription(q: Queryable, id: string, lock = false): Promise<Row> {
  const rows = await q.query<Row>(
    `SELECT * FROM webhook_subscriptions WHERE id = $1${lock ? " FOR UPDATE" : ""}`,
    [id],
  );
  if (!rows[0]) throw notFound(`webhook '${id}'`);
  return rows[0];
}

export function createWebhooksService({
  db,
  clock,
  checkUrl = () => null,
}: {
  db: Db;
  clock: Clock;
  /** Why a receiver URL is refused (the egress guard's static check), or null. */
  checkUrl?: (url: string) => string | null;
}) {
  return {
    /** Creates a subscription; the signing secret is returned here and never again. */
    async create(ctx: RequestContext, input: WebhookCreate): Promise<WebhookCreated> {
      const refused = checkUrl(input.url);
      if (refused) throw invalid("body.url", `egress refused: ${refused}`);
      const secret = `whsec_${randomBytes(32).toString("base64")}`;
      const webhook = await db.transaction(async (tx) => {
        const rows = await tx.query<Row>(
          `INSERT INTO webhook_subscriptions (id, name, url, event_types, secret, created_by, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
          [
            newId("whk"),
            input.name ?? new URL(input.url).host,
            input.url,
            [...new Set(input.eventTypes)],
            secret,
            ctx.actor,
            clock.now().toISOString(),
          ],
        );
        const w = toWebhook(rows[0]!);
        // The audit event never holds the secret; the prefix is enough to recognise it.
        await recordAudit(tx, ctx, clock.now(), {
          action: "webhook.created",
          subjectType: "webhook",
          subjectId: w.id,
          after: w,
        });
        return w;
      });
      return { ...webhook, secret };
    },

    async list(): Promise<Webhook[]> {
      return (await db.query<Row>("SELECT * FROM webhook_subscriptions ORDER BY created_at, id")).map(
        toWebhook,
      );
    },

    /**
     * Stops deliveries to the subscription for good. Its pending deliveries become failed
     * (naming why) rather than waiting forever for a receiver nobody will turn back on.
     */
    async disable(ctx: RequestContext, id: string): Promise<Webhook> {
      return db.transaction(async (tx) => {
        const before = await findSubscription(tx, id, true);
        if (!before.active)
          throw conflict(`webhook '${id}' is already disabled`, [
            { field: "id", reason: "already disabled" },
          ]);
        const now = clock.now().toISOString();
        const rows = await tx.query<Row>(
          `UPDATE webhook_subscriptions SET active = false, disabled_at = $2, disabled_by = $3
            WHERE id = $1 RETURNING *`,
          [id, now, ctx.actor],
        );
        await tx.query(
          `UPDATE webhook_deliveries SET status = 'failed', last_error = 'subscription disabled'
            WHERE subscription_id = $1 AND status = 'pending'`,
          [id],
        );
        const after = toWebhook(rows[0]!);
        await recordAudit(tx, ctx, clock.now(), {
          action: "webhook.disabled",
          subjectType: "webhook",
          subjectId: id,
          before: toWebhook(before),
          after,
        });
        return after;
      });
    },

    /** The subscription's deliveries, newest event first. */
    async deliveries(id: string, query: Partial<DeliveryQuery> = {}): Promise<Delivery[]> {
      await findSubscription(db, id);
      const rows = await db.query<Row>(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries
          WHERE subscription_id = $1 AND ($2::text IS NULL OR status = $2)
          ORDER BY outbox_seq DESC, id LIMIT $3`,
        [id, query.status ?? null, query.limit ?? 50],
      );
      return rows.map(toDelivery);
    },

    /** Re-queues a failed delivery with a fresh attempt budget, due now. */
    async retry(ctx: RequestContext, id: string, deliveryId: string): Promise<Delivery> {
      return db.transaction(async (tx) => {
        const sub = await findSubscription(tx, id);
        if (!sub.active)
          throw conflict(`webhook '${id}' is disabled; create a new subscription instead`, [
            { field: "id", reason: "disabled" },
          ]);
        const found = await tx.query<Row>(
          `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1 AND subscription_id = $2 FOR UPDATE`,
          [deliveryId, id],
        );
        if (!found[0]) throw notFound(`delivery '${deliveryId}' of webhook '${id}'`);
        const before = toDelivery(found[0]);
        if (before.status !== "failed")
          throw conflict(`delivery '${deliveryId}' is ${before.status}; only a failed delivery is retried`, [
            { field: "deliveryId", reason: `status is ${before.status}` },
          ]);
        const rows = await tx.query<Row>(
          `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $2
            WHERE id = $1 RETURNING ${DELIVERY_COLUMNS}`,
          [deliveryId, clock.now().toISOString()],
        );
        const after = toDelivery(rows[0]!);
        await recordAudit(tx, ctx, clock.now(), {
          action: "webhook.delivery_requeued",
          subjectType: "webhook",
          subjectId: id,
          before,
          after,
        });
        return after;
      });
    },
  };
}

export type WebhooksService = ReturnType<typeof createWebhooksService>;
