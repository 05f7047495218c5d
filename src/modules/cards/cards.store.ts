import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { newId } from "../../lib/ids.ts";
import type { Queryable } from "../../store/db.ts";
import type { CardContent } from "./card-sections.ts";

export interface CardRevision {
  id: string;
  versionId: string;
  revision: number;
  content: CardContent;
  contentHash: string;
  source: "api" | "huggingface" | "spec" | "demo" | "evaluation";
  createdBy: string;
  createdAt: string;
}

type Row = Record<string, unknown>;

export function cardHash(content: CardContent): string {
  return `sha256:${createHash("sha256")
    .update(canonicalize(content) ?? "")
    .digest("hex")}`;
}

const toRevision = (r: Row): CardRevision => ({
  id: r.id as string,
  versionId: r.version_id as string,
  revision: r.revision as number,
  content: r.content as CardContent,
  contentHash: r.content_hash as string,
  source: r.source as CardRevision["source"],
  createdBy: r.created_by as string,
  createdAt: (r.created_at as Date).toISOString(),
});

const COLS = "id, version_id, revision, content, content_hash, source, created_by, created_at";

/** Appends a revision numbered after the last; the caller holds the model row lock. */
export async function appendRevision(
  q: Queryable,
  r: { versionId: string; content: CardContent; source: CardRevision["source"]; actor: string; at: string },
): Promise<CardRevision> {
  const rows = await q.query<Row>(
    `INSERT INTO card_revisions (id, version_id, revision, content, content_hash, source, created_by, created_at)
     VALUES ($1, $2, (SELECT COALESCE(max(revision), 0) + 1 FROM card_revisions WHERE version_id = $2), $3, $4, $5, $6, $7)
     RETURNING ${COLS}`,
    [newId("crd"), r.versionId, JSON.stringify(r.content), cardHash(r.content), r.source, r.actor, r.at],
  );
  return toRevision(rows[0]!);
}

export async function latestRevision(q: Queryable, versionId: string): Promise<CardRevision | null> {
  const rows = await q.query<Row>(
    `SELECT ${COLS} FROM card_revisions WHERE version_id = $1 ORDER BY revision DESC LIMIT 1`,
    [versionId],
  );
  return rows[0] ? toRevision(rows[0]) : null;
}

export async function getRevision(
  q: Queryable,
  versionId: string,
  revision: number,
): Promise<CardRevision | null> {
  const rows = await q.query<Row>(
    `SELECT ${COLS} FROM card_revisions WHERE version_id = $1 AND revision = $2`,
    [versionId, revision],
  );
  return rows[0] ? toRevision(rows[0]) : null;
}

export async function listRevisions(
  q: Queryable,
  versionId: string,
): Promise<Omit<CardRevision, "content">[]> {
  const rows = await q.query<Row>(
    `SELECT ${COLS} FROM card_revisions WHERE version_id = $1 ORDER BY revision`,
    [versionId],
  );
  return rows.map((r) => {
    const { content: _content, ...rest } = toRevision(r);
    return rest;
  });
}
