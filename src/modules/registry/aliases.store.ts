import { newId } from "../../lib/ids.ts";
import type { Queryable } from "../../store/db.ts";

type Row = Record<string, unknown>;
const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : new Date(String(d)).toISOString());

export interface AliasMove {
  alias: string;
  version: string | null;
  previousVersion: string | null;
  reason: string;
  actor: string;
  at: string;
}

export async function currentAliasTarget(
  q: Queryable,
  modelId: string,
  alias: string,
): Promise<string | null> {
  const rows = await q.query<{ version_id: string }>(
    "SELECT version_id FROM aliases WHERE model_id = $1 AND alias = $2",
    [modelId, alias],
  );
  return rows[0]?.version_id ?? null;
}

/** Points (or, with `versionId` null, removes) an alias and appends the move to its history. */
export async function moveAlias(
  q: Queryable,
  m: {
    modelId: string;
    alias: string;
    versionId: string | null;
    previousId: string | null;
    reason: string;
    actor: string;
    at: string;
  },
): Promise<void> {
  if (m.versionId) {
    await q.query(
      `INSERT INTO aliases (model_id, alias, version_id, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (model_id, alias) DO UPDATE SET version_id = EXCLUDED.version_id, updated_at = EXCLUDED.updated_at`,
      [m.modelId, m.alias, m.versionId, m.at],
    );
  } else {
    await q.query("DELETE FROM aliases WHERE model_id = $1 AND alias = $2", [m.modelId, m.alias]);
  }
  await q.query(
    `INSERT INTO alias_history (id, model_id, alias, version_id, previous_version_id, reason, actor, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [newId("alh"), m.modelId, m.alias, m.versionId, m.previousId, m.reason, m.actor, m.at],
  );
}

const HISTORY_COLS = `h.alias, nv.version AS version, pv.version AS previous_version, h.reason, h.actor, h.at
   FROM alias_history h
   LEFT JOIN model_versions nv ON nv.id = h.version_id
   LEFT JOIN model_versions pv ON pv.id = h.previous_version_id`;

const toMove = (r: Row): AliasMove => ({
  alias: r.alias as string,
  version: (r.version as string | null) ?? null,
  previousVersion: (r.previous_version as string | null) ?? null,
  reason: r.reason as string,
  actor: r.actor as string,
  at: iso(r.at),
});

export async function aliasHistory(q: Queryable, modelId: string, alias?: string): Promise<AliasMove[]> {
  const rows = await q.query<Row>(
    `SELECT ${HISTORY_COLS} WHERE h.model_id = $1 AND ($2::text IS NULL OR h.alias = $2) ORDER BY h.at, h.seq`,
    [modelId, alias ?? null],
  );
  return rows.map(toMove);
}

/** What every alias of the model pointed to at time `at` (aliases removed by then are left out). */
export async function aliasesAt(q: Queryable, modelId: string, at: string): Promise<Record<string, string>> {
  const rows = await q.query<Row>(
    `SELECT DISTINCT ON (h.alias) ${HISTORY_COLS}
      WHERE h.model_id = $1 AND h.at <= $2::timestamptz
      ORDER BY h.alias, h.at DESC, h.seq DESC`,
    [modelId, at],
  );
  return Object.fromEntries(
    rows.filter((r) => r.version != null).map((r) => [r.alias as string, r.version as string]),
  );
}
