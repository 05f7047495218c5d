import type { RequestContext } from "../../http/context.ts";
import { newId } from "../../lib/ids.ts";
import type { Queryable, Tx } from "../../store/db.ts";
import { type ChainedEvent, computeHash, toStoredJson } from "./chain.ts";

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

/**
 * Writes the transaction's events, and an outbox row for each, in recording order, each
 * linked to the one before by its hash. The head row lock serialises concurrent writers;
 * it is taken here, just before COMMIT, so it is the last lock a transaction takes.
 */
async function sealEvents(q: Queryable, events: PendingEvent[]): Promise<void> {
  let head = await readHead(q, true);
  for (const e of events) {
    const before = toStoredJson(e.before);
    const after = toStoredJson(e.after);
    const event = {
      id: e.id,
      position: head.position + 1,
      at: e.at,
      actor: e.actor,
      action: e.action,
      subjectType: e.subjectType,
      subjectId: e.subjectId,
      before,
      after,
      reason: e.reason ?? "",
      requestId: e.requestId,
    };
    const hash = computeHash(event, head.hash);
    await q.query(
      `INSERT INTO audit_events (id, at, actor, action, subject_type, subject_id, before, after, reason, request_id,
                                 position, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        e.id,
        e.at,
        e.actor,
        e.action,
        e.subjectType,
        e.subjectId,
        before === null ? null : JSON.stringify(before),
        after === null ? null : JSON.stringify(after),
        event.reason,
        e.requestId,
        event.position,
        head.hash,
        hash,
      ],
    );
    await q.query(
      `INSERT INTO event_outbox (audit_id, action, subject_type, subject_id, created_at) VALUES ($1, $2, $3, $4, $5)`,
      [e.id, e.action, e.subjectType, e.subjectId, e.at],
    );
    head = { position: event.position, hash, eventId: e.id };
  }
  await q.query("UPDATE audit_chain_head SET seq = $1, hash = $2, event_id = $3 WHERE id = 'head'", [
    head.position,
    head.hash,
    head.eventId,
  ]);
  // Delivered at COMMIT to every listening replica: only a version number; they re-read.
  await q.query("SELECT pg_notify($1, $2)", [STATE_CHANNEL, String(head.position)]);
}

/** The channel that carries "state changed" (the new audit position) to gateway replicas. */
export const STATE_CHANNEL = "modelgov_state";

export interface ChainHead {
  position: number;
  hash: string;
  eventId: string | null;
}

/** The chain head; `lock` holds it until COMMIT (only sealEvents appends). */
export async function readHead(q: Queryable, lock = false): Promise<ChainHead> {
  const rows = await q.query<{ seq: unknown; hash: string; event_id: string | null }>(
    `SELECT seq, hash, event_id FROM audit_chain_head WHERE id = 'head'${lock ? " FOR UPDATE" : ""}`,
  );
  const r = rows[0];
  if (!r) throw new Error("the audit chain head row is missing: run the migrations");
  return { position: Number(r.seq), hash: r.hash, eventId: r.event_id };
}

const EVENT_COLUMNS = `id, position, at, actor, action, subject_type, subject_id, before, after, reason, request_id,
  prev_hash, hash`;

const toChained = (r: Record<string, unknown>): ChainedEvent => ({
  id: r.id as string,
  // BIGINT arrives as a string from node-postgres; positions stay far below 2^53.
  position: Number(r.position),
  at: (r.at as Date).toISOString(),
  actor: r.actor as string,
  action: r.action as string,
  subjectType: r.subject_type as string,
  subjectId: r.subject_id as string,
  before: r.before ?? null,
  after: r.after ?? null,
  reason: r.reason as string,
  requestId: (r.request_id as string | null) ?? null,
  prevHash: r.prev_hash as string,
  hash: r.hash as string,
});

/**
 * One page of the chain in position order, up to `upTo` (a head read earlier, so the
 * page never includes events committed after it). Keyset on (position, id): a forged
 * row that repeats a position is still read, and then reported.
 */
export async function readChainPage(
  q: Queryable,
  after: { position: number; id: string } | null,
  upTo: number,
  limit: number,
): Promise<ChainedEvent[]> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT ${EVENT_COLUMNS} FROM audit_events
      WHERE position <= $1 AND (position, id) > ($2, $3)
      ORDER BY position, id LIMIT $4`,
    [upTo, after?.position ?? -1, after?.id ?? "", limit],
  );
  return rows.map(toChained);
}

export interface AuditSearch {
  subjectType?: string | undefined;
  subjectId?: string | undefined;
  actor?: string | undefined;
  /** An action, or a prefix ending in `.*` (`version.*`). */
  action?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  order?: "asc" | "desc" | undefined;
  /** Continue after this position (in the direction of `order`). */
  afterPosition?: number | undefined;
  limit: number;
}

export async function searchAudit(q: Queryable, f: AuditSearch): Promise<ChainedEvent[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where.push(sql.replace("?", `$${params.length}`));
  };
  if (f.subjectType) add("subject_type = ?", f.subjectType);
  if (f.subjectId) add("subject_id = ?", f.subjectId);
  if (f.actor) add("actor = ?", f.actor);
  if (f.action?.endsWith(".*"))
    add("action LIKE ?", `${f.action.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  else if (f.action) add("action = ?", f.action);
  if (f.since) add("at >= ?", f.since);
  if (f.until) add("at < ?", f.until);
  const desc = f.order === "desc";
  if (f.afterPosition !== undefined) add(desc ? "position < ?" : "position > ?", f.afterPosition);
  params.push(f.limit);
  const rows = await q.query<Record<string, unknown>>(
    `SELECT ${EVENT_COLUMNS} FROM audit_events ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY position ${desc ? "DESC" : "ASC"} LIMIT $${params.length}`,
    params,
  );
  return rows.map(toChained);
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
