import { Counter, Gauge, type Registry } from "prom-client";
import { scrapeRead } from "../../lib/scrape-read.ts";
import type { Queryable } from "../../store/db.ts";
import type { PassResult } from "./dispatcher.ts";

/**
 * The webhook queue, read from the database at scrape time: two counts over partial indexes
 * (the outbox's undispatched events, the pending deliveries), so the cost is the size of the
 * queue, not of the history. Every replica reports the same, shared queue.
 * `modelgov_webhook_attempts_total{outcome}` counts this replica's delivery attempts
 * (`delivered`; `retrying`: failed, tried again later; `failed`: failed for good) from the
 * dispatcher's passes: sum over replicas. Returns the dispatcher's `onPass`.
 */
export function registerWebhookMetrics(registry: Registry, db: Queryable): (result: PassResult) => void {
  const registers = [registry];
  const read = scrapeRead(async () => {
    const [row] = await db.query<{ outbox: unknown; pending: unknown }>(
      `SELECT (SELECT count(*) FROM event_outbox WHERE dispatched_at IS NULL) AS outbox,
              (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending') AS pending`,
    );
    return { outbox: Number(row?.outbox ?? 0), pending: Number(row?.pending ?? 0) };
  });
  new Gauge({
    name: "modelgov_webhook_deliveries_pending",
    help: "Webhook deliveries waiting to be sent or retried (the queue across replicas)",
    registers,
    async collect() {
      const q = await read();
      if (q) this.set(q.pending);
    },
  });
  new Gauge({
    name: "modelgov_webhook_outbox_pending",
    help: "Audit events in the outbox not yet fanned out to webhook deliveries",
    registers,
    async collect() {
      const q = await read();
      if (q) this.set(q.outbox);
    },
  });
  const attempts = new Counter({
    name: "modelgov_webhook_attempts_total",
    help: "Webhook delivery attempts by this replica, by outcome: delivered, retrying (failed, tried again later), failed (failed for good)",
    labelNames: ["outcome"] as const,
    registers,
  });
  const dispatched = new Counter({
    name: "modelgov_webhook_events_dispatched_total",
    help: "Outbox events this replica fanned out to the matching subscriptions",
    registers,
  });
  const series = {
    delivered: attempts.labels("delivered"),
    retrying: attempts.labels("retrying"),
    failed: attempts.labels("failed"),
  };
  return (r) => {
    dispatched.inc(r.dispatched);
    series.delivered.inc(r.delivered);
    series.retrying.inc(r.retrying);
    series.failed.inc(r.failed);
  };
}
