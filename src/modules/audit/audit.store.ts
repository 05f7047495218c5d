import type { RequestContext } from "../../http/context.ts";
import { newId } from "../../lib/ids.ts";
import type { Queryable, Tx } from "../../store/db.ts";

export interface AuditInput {
  action: string;
  subjectType: string;
  subjectId: string;
  before?: unknown;
  after?: unknown;
  reason?: string;
}

export interface AuditEvent extends Required<Omit<AuditInput, "reason">> {
  id: string;
  at: string;
  actor: string;
  reason: string;
  requestId: string | null;
}

interface PendingEvent extends AuditInput {
  id: string;
  at: string;
  actor: string;
  requestId: string;
}

const pending = new WeakMap<Tx, PendingEvent[]>();

/**
 * Records one audit event in the caller's transaction: the change and its record commit
 * together or not at all. Events are written just before COMMIT (see sealEvents), in the
 * order they were recorded, so the chain head is locked last and briefly.
 */
export async function recordAudit(tx: Tx, ctx: RequestContext, at: Date, e: AuditInput): Promise<void> {
  let list = pending.get(tx);
  if (!list) {
    const events: PendingEvent[] = [];
    list = events;
    pending.set(tx, events);
    tx.beforeCommit("audit", (q) => sealEvents(q, events));
  }
  list.push({ ...e, id: newId("aud"), at: at.toISOString(), actor: ctx.actor, requestId: ctx.requestId });
}

/** Writes the transaction's events, and an outbox row for each, in recording order. */
async function sealEvents(q: Queryable, events: PendingEvent[]): Promise<void> {
  for (const e of events) {
    await q.query(
      `INSERT INTO audit_events (id, at, actor, action, subject_type, subject_id, before, after, reason, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        e.id,
        e.at,
        e.actor,
        e.action,
        e.subjectType,
        e.subjectId,
        e.before === undefined ? null : JSON.stringify(e.before),
        e.after === undefined ? null : JSON.stringify(e.after),
        e.reason ?? "",
        e.requestId,
      ],
    );
    await q.query(
      `INSERT INTO event_outbox (audit_id, action, subject_type, subject_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
      [e.id, e.action, e.subjectType, e.subjectId, e.at],
    );
  }
}

export async function listAudit(
  db: Queryable,
  filter: { subjectType?: string; subjectId?: string; action?: string; limit?: number } = {},
): Promise<AuditEvent[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where.push(sql.replace("?", `$${params.length}`));
  };
  if (filter.subjectType) add("subject_type = ?", filter.subjectType);
  if (filter.subjectId) add("subject_id = ?", filter.subjectId);
  if (filter.action) add("action = ?", filter.action);
  params.push(filter.limit ?? 1000);
  const rows = await db.query<Record<string, unknown>>(
    `SELECT id, at, actor, action, subject_type, subject_id, before, after, reason, request_id
       FROM audit_events ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY seq LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => ({
    id: r.id as string,
    at: (r.at as Date).toISOString(),
    actor: r.actor as string,
    action: r.action as string,
    subjectType: r.subject_type as string,
    subjectId: r.subject_id as string,
    before: r.before,
    after: r.after,
    reason: r.reason as string,
    requestId: (r.request_id as string | null) ?? null,
  }));
}
