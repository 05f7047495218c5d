import type { Requirements } from "../../engines/policy/approval-policy.ts";
import { newId } from "../../lib/ids.ts";
import type { Queryable } from "../../store/db.ts";
import type { Evidence } from "./approvals.schemas.ts";

type Row = Record<string, unknown>;
const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : null);

export interface RequestRow {
  id: string;
  versionId: string;
  requestedBy: string;
  summary: string;
  evidenceRefs: string[];
  status: "pending" | "approved" | "rejected" | "voided";
  cardHash: string | null;
  evidence: {
    id: string;
    kind: string;
    contentHash: string;
    passed: boolean | null;
    provenance?: "computed" | "attested";
    attachedBy?: string;
  }[];
  requirements: Requirements;
  createdAt: string;
  decidedAt: string | null;
  voidedAt: string | null;
  voidReason: string | null;
}

export interface SignoffRow {
  id: string;
  signer: string;
  role: string;
  decision: "approve" | "reject";
  comment: string;
  evidenceRefs: string[];
  signedAt: string;
}

const toRequest = (r: Row): RequestRow => ({
  id: r.id as string,
  versionId: r.version_id as string,
  requestedBy: r.requested_by as string,
  summary: r.summary as string,
  evidenceRefs: r.evidence_refs as string[],
  status: r.status as RequestRow["status"],
  cardHash: (r.card_hash as string | null) ?? null,
  evidence: r.evidence as RequestRow["evidence"],
  requirements: r.requirements as Requirements,
  createdAt: iso(r.created_at)!,
  decidedAt: iso(r.decided_at),
  voidedAt: iso(r.voided_at),
  voidReason: (r.void_reason as string | null) ?? null,
});

const toSignoff = (r: Row): SignoffRow => ({
  id: r.id as string,
  signer: r.signer as string,
  role: r.role as string,
  decision: r.decision as SignoffRow["decision"],
  comment: r.comment as string,
  evidenceRefs: r.evidence_refs as string[],
  signedAt: iso(r.signed_at)!,
});

const toEvidence = (r: Row): Evidence => ({
  id: r.id as string,
  kind: r.kind as string,
  uri: r.uri as string,
  contentHash: r.content_hash as string,
  passed: (r.passed as boolean | null) ?? null,
  summary: r.summary as string,
  attachedBy: r.attached_by as string,
  attachedAt: iso(r.attached_at)!,
  provenance: r.provenance as Evidence["provenance"],
  runId: (r.run_id as string | null) ?? null,
  details: (r.details as Record<string, unknown> | null) ?? null,
});

export async function readRules(q: Queryable): Promise<unknown[] | null> {
  const rows = await q.query<{ rules: unknown[] }>("SELECT rules FROM approval_policy WHERE id = 'default'");
  return rows[0]?.rules ?? null;
}

export async function readGates(q: Queryable): Promise<unknown[]> {
  const rows = await q.query<{ gates: unknown[] }>("SELECT gates FROM approval_policy WHERE id = 'default'");
  return rows[0]?.gates ?? [];
}

/** The policy's segments and flag-change rules (issue 19). */
export async function readFlagPolicy(q: Queryable): Promise<{ segments: unknown[]; flagChanges: unknown[] }> {
  const rows = await q.query<{ segments: unknown[]; flag_changes: unknown[] }>(
    "SELECT segments, flag_changes FROM approval_policy WHERE id = 'default'",
  );
  return { segments: rows[0]?.segments ?? [], flagChanges: rows[0]?.flag_changes ?? [] };
}

export async function writeRules(
  q: Queryable,
  rules: unknown[],
  at: string,
  gates: unknown[] = [],
  flagPolicy: { segments: unknown[]; flagChanges: unknown[] } = { segments: [], flagChanges: [] },
): Promise<void> {
  await q.query(
    `INSERT INTO approval_policy (id, rules, gates, segments, flag_changes, updated_at) VALUES ('default', $1, $3, $4, $5, $2)
     ON CONFLICT (id) DO UPDATE SET rules = EXCLUDED.rules, gates = EXCLUDED.gates, segments = EXCLUDED.segments,
       flag_changes = EXCLUDED.flag_changes, updated_at = EXCLUDED.updated_at`,
    [
      JSON.stringify(rules),
      at,
      JSON.stringify(gates),
      JSON.stringify(flagPolicy.segments),
      JSON.stringify(flagPolicy.flagChanges),
    ],
  );
}

export async function insertEvidence(
  q: Queryable,
  e: Omit<Evidence, "id" | "runId" | "details" | "provenance"> & {
    versionId: string;
    runId?: string | null;
    details?: Record<string, unknown> | null;
  },
): Promise<Evidence> {
  const rows = await q.query<Row>(
    `INSERT INTO evidence (id, version_id, kind, uri, content_hash, passed, summary, attached_by, attached_at, run_id, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
    [
      newId("evd"),
      e.versionId,
      e.kind,
      e.uri,
      e.contentHash,
      e.passed,
      e.summary,
      e.attachedBy,
      e.attachedAt,
      e.runId ?? null,
      e.details ? JSON.stringify(e.details) : null,
    ],
  );
  return toEvidence(rows[0]!);
}

/** The latest evidence of each kind attached to a version (as of `at` when given). */
export async function latestEvidence(q: Queryable, versionId: string, at?: string): Promise<Evidence[]> {
  const rows = await q.query<Row>(
    `SELECT DISTINCT ON (kind) * FROM evidence
      WHERE version_id = $1 AND ($2::timestamptz IS NULL OR attached_at <= $2)
      ORDER BY kind, seq DESC`,
    [versionId, at ?? null],
  );
  return rows.map(toEvidence);
}

export async function allEvidence(q: Queryable, versionId: string): Promise<Evidence[]> {
  return (await q.query<Row>("SELECT * FROM evidence WHERE version_id = $1 ORDER BY seq", [versionId])).map(
    toEvidence,
  );
}

export async function insertRequest(
  q: Queryable,
  r: Omit<RequestRow, "decidedAt" | "voidedAt" | "voidReason">,
): Promise<void> {
  await q.query(
    `INSERT INTO approval_requests (id, version_id, requested_by, summary, evidence_refs, status, card_hash, evidence, requirements, created_at)
     VALUES ($1, $2, $3, $4, $10, $5, $6, $7, $8, $9)`,
    [
      r.id,
      r.versionId,
      r.requestedBy,
      r.summary,
      r.status,
      r.cardHash,
      JSON.stringify(r.evidence),
      JSON.stringify(r.requirements),
      r.createdAt,
      JSON.stringify(r.evidenceRefs),
    ],
  );
}

export async function getRequest(q: Queryable, id: string, forUpdate = false): Promise<RequestRow | null> {
  const rows = await q.query<Row>(
    `SELECT * FROM approval_requests WHERE id = $1 ${forUpdate ? "FOR UPDATE" : ""}`,
    [id],
  );
  return rows[0] ? toRequest(rows[0]) : null;
}

export async function setRequestStatus(
  q: Queryable,
  id: string,
  status: RequestRow["status"],
  at: string,
  voidReason?: string,
): Promise<void> {
  await q.query(
    `UPDATE approval_requests SET status = $2,
        decided_at = CASE WHEN $2 IN ('approved', 'rejected') THEN $3::timestamptz ELSE decided_at END,
        voided_at = CASE WHEN $2 = 'voided' THEN $3::timestamptz ELSE voided_at END,
        void_reason = CASE WHEN $2 = 'voided' THEN $4 ELSE void_reason END
      WHERE id = $1`,
    [id, status, at, voidReason ?? null],
  );
}

export async function listRequests(
  q: Queryable,
  f: { versionId?: string; modelId?: string; status?: string; limit: number },
): Promise<RequestRow[]> {
  const rows = await q.query<Row>(
    `SELECT r.* FROM approval_requests r JOIN model_versions v ON v.id = r.version_id
      WHERE ($1::text IS NULL OR r.version_id = $1) AND ($2::text IS NULL OR v.model_id = $2)
        AND ($3::text IS NULL OR r.status = $3)
      ORDER BY r.created_at DESC, r.id DESC LIMIT $4`,
    [f.versionId ?? null, f.modelId ?? null, f.status ?? null, f.limit],
  );
  return rows.map(toRequest);
}

export async function signoffsOf(q: Queryable, requestId: string): Promise<SignoffRow[]> {
  const rows = await q.query<Row>(
    "SELECT * FROM approval_signoffs WHERE request_id = $1 ORDER BY signed_at, id",
    [requestId],
  );
  return rows.map(toSignoff);
}

export async function insertSignoff(
  q: Queryable,
  s: Omit<SignoffRow, "id"> & { requestId: string; tokenId: string | null },
): Promise<SignoffRow> {
  const rows = await q.query<Row>(
    `INSERT INTO approval_signoffs (id, request_id, signer, token_id, role, decision, comment, evidence_refs, signed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
    [
      newId("sig"),
      s.requestId,
      s.signer,
      s.tokenId,
      s.role,
      s.decision,
      s.comment,
      JSON.stringify(s.evidenceRefs),
      s.signedAt,
    ],
  );
  return toSignoff(rows[0]!);
}
