// SQL for flag change requests and their sign-offs (migration 20261215000000_flag_governance).

import type { Queryable } from "../../store/db.ts";
import type { FlagInput } from "./flags.schemas.ts";
import type { FlagChange } from "./flags.store.ts";

export interface ChangeRequirements {
  /** The policy's flagChanges rules that asked for sign-offs. */
  rules: string[];
  roles: Record<string, number>;
  allowSameSignerForMultipleRoles: boolean;
}

export type ChangeStatus = "pending" | "applied" | "rejected" | "withdrawn" | "superseded" | "lapsed";

export interface ChangeSignoff {
  signer: string;
  role: string;
  decision: "approve" | "reject";
  comment: string;
  signedAt: string;
}

export interface ChangeRequest {
  id: string;
  key: string;
  change: FlagChange;
  baseRevision: number | null;
  proposed: FlagInput | null;
  reason: string;
  requestedBy: string;
  requirements: ChangeRequirements;
  status: ChangeStatus;
  createdAt: string;
  expiresAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  appliedRevision: number | null;
  signoffs: ChangeSignoff[];
}

type Row = Record<string, unknown>;
const iso = (t: unknown) => (t == null ? null : (t instanceof Date ? t : new Date(String(t))).toISOString());
const json = <T>(v: unknown): T => (typeof v === "string" ? (JSON.parse(v) as T) : (v as T));

function toRequest(r: Row, signoffs: ChangeSignoff[]): ChangeRequest {
  return {
    id: r.id as string,
    key: r.flag_key as string,
    change: r.change as FlagChange,
    baseRevision: (r.base_revision as number | null) ?? null,
    proposed: r.proposed == null ? null : json<FlagInput>(r.proposed),
    reason: r.reason as string,
    requestedBy: r.requested_by as string,
    requirements: json<ChangeRequirements>(r.requirements),
    status: r.status as ChangeStatus,
    createdAt: iso(r.created_at)!,
    expiresAt: iso(r.expires_at)!,
    decidedAt: iso(r.decided_at),
    decidedBy: (r.decided_by as string | null) ?? null,
    appliedRevision: (r.applied_revision as number | null) ?? null,
    signoffs,
  };
}

async function signoffsOf(q: Queryable, ids: string[]): Promise<Map<string, ChangeSignoff[]>> {
  const out = new Map<string, ChangeSignoff[]>();
  if (!ids.length) return out;
  const rows = await q.query<Row>(
    "SELECT * FROM flag_change_signoffs WHERE request_id = ANY($1) ORDER BY signed_at, signer, role",
    [ids],
  );
  for (const r of rows)
    out.set(r.request_id as string, [
      ...(out.get(r.request_id as string) ?? []),
      {
        signer: r.signer as string,
        role: r.role as string,
        decision: r.decision as ChangeSignoff["decision"],
        comment: r.comment as string,
        signedAt: iso(r.signed_at)!,
      },
    ]);
  return out;
}

export async function insertChangeRequest(
  q: Queryable,
  r: Omit<ChangeRequest, "status" | "decidedAt" | "decidedBy" | "appliedRevision" | "signoffs">,
): Promise<void> {
  await q.query(
    `INSERT INTO flag_change_requests (id, flag_key, change, base_revision, proposed, reason, requested_by, requirements,
       status, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10)`,
    [
      r.id,
      r.key,
      r.change,
      r.baseRevision,
      r.proposed === null ? null : JSON.stringify(r.proposed),
      r.reason,
      r.requestedBy,
      JSON.stringify(r.requirements),
      r.createdAt,
      r.expiresAt,
    ],
  );
}

export async function getChangeRequest(
  q: Queryable,
  id: string,
  forUpdate = false,
): Promise<ChangeRequest | null> {
  const rows = await q.query<Row>(
    `SELECT * FROM flag_change_requests WHERE id = $1${forUpdate ? " FOR UPDATE" : ""}`,
    [id],
  );
  if (!rows[0]) return null;
  return toRequest(rows[0], (await signoffsOf(q, [id])).get(id) ?? []);
}

export async function listChangeRequests(
  q: Queryable,
  f: { key?: string; status?: ChangeStatus; limit: number },
): Promise<ChangeRequest[]> {
  const rows = await q.query<Row>(
    `SELECT * FROM flag_change_requests WHERE ($1::text IS NULL OR flag_key = $1) AND ($2::text IS NULL OR status = $2)
      ORDER BY created_at DESC, id DESC LIMIT $3`,
    [f.key ?? null, f.status ?? null, f.limit],
  );
  const signoffs = await signoffsOf(
    q,
    rows.map((r) => r.id as string),
  );
  return rows.map((r) => toRequest(r, signoffs.get(r.id as string) ?? []));
}

/** The pending request on a flag, locked (one at most: a partial unique index). */
export async function pendingFor(q: Queryable, key: string): Promise<ChangeRequest | null> {
  const rows = await q.query<{ id: string }>(
    "SELECT id FROM flag_change_requests WHERE flag_key = $1 AND status = 'pending' FOR UPDATE",
    [key],
  );
  return rows[0] ? getChangeRequest(q, rows[0].id) : null;
}

export async function insertChangeSignoff(
  q: Queryable,
  id: string,
  s: ChangeSignoff & { tokenId: string | null },
): Promise<void> {
  await q.query(
    `INSERT INTO flag_change_signoffs (request_id, signer, role, decision, comment, token_id, signed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [id, s.signer, s.role, s.decision, s.comment, s.tokenId, s.signedAt],
  );
}

export async function decideChangeRequest(
  q: Queryable,
  id: string,
  d: { status: Exclude<ChangeStatus, "pending">; at: string; by: string; appliedRevision?: number | null },
): Promise<void> {
  await q.query(
    `UPDATE flag_change_requests SET status = $2, decided_at = $3, decided_by = $4, applied_revision = $5
      WHERE id = $1 AND status = 'pending'`,
    [id, d.status, d.at, d.by, d.appliedRevision ?? null],
  );
}
