import type { Queryable } from "../../store/db.ts";
import type { Model, ModelQuery, Retention, Status, Version, VersionQuery } from "./registry.schemas.ts";

/** SQL for the registry. Every function takes the connection or transaction to run on. */

type Row = Record<string, unknown>;
const iso = (d: unknown) =>
  d instanceof Date ? d.toISOString() : d == null ? null : new Date(String(d)).toISOString();

export interface ModelRow {
  id: string;
  name: string;
  owner: string;
  description: string;
  useCases: string[];
  riskTier: Model["riskTier"];
  tags: string[];
  retention: Retention | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

const MODEL_COLS = `m.id, m.name, m.owner, m.description, m.use_cases, m.risk_tier, m.tags, m.retention,
  m.created_by, m.created_at, m.updated_at`;

const toModelRow = (r: Row): ModelRow => ({
  id: r.id as string,
  name: r.name as string,
  owner: r.owner as string,
  description: r.description as string,
  useCases: r.use_cases as string[],
  riskTier: r.risk_tier as Model["riskTier"],
  tags: r.tags as string[],
  retention: (r.retention as Retention | null) ?? null,
  createdBy: r.created_by as string,
  createdAt: iso(r.created_at)!,
  updatedAt: iso(r.updated_at)!,
});

const VERSION_COLS = `v.id, v.model_id, m.name AS model_name, v.version, v.provider, v.provider_model_id, v.endpoint,
  v.parameters, v.artifact_uri, v.artifact_digest, v.contract, v.changelog, v.pinned_digest, v.metrics,
  v.limitations, v.tags, v.status, v.promoted_at, v.created_by, v.created_at, v.updated_at, v.retraining_task_id,
  (SELECT f.version FROM model_versions f WHERE f.id = v.retrained_from_version_id) AS retrained_from_version,
  COALESCE((SELECT array_agg(a.alias ORDER BY a.alias) FROM aliases a WHERE a.version_id = v.id), '{}') AS aliases`;

const toVersion = (r: Row): Version => ({
  id: r.id as string,
  model: r.model_name as string,
  modelId: r.model_id as string,
  version: r.version as string,
  provider: r.provider as string,
  providerModelId: r.provider_model_id as string,
  endpoint: (r.endpoint as string | null) ?? null,
  parameters: r.parameters as Record<string, unknown>,
  artifact: r.artifact_uri ? { uri: r.artifact_uri as string, digest: r.artifact_digest as string } : null,
  contract: (r.contract as Version["contract"]) ?? null,
  changelog: r.changelog as string,
  pinnedDigest: r.pinned_digest as string,
  metrics: r.metrics as Record<string, number>,
  limitations: r.limitations as string[],
  tags: r.tags as string[],
  status: r.status as Status,
  aliases: r.aliases as string[],
  promotedAt: iso(r.promoted_at),
  retrainedFrom: r.retraining_task_id
    ? { version: r.retrained_from_version as string, task: r.retraining_task_id as string }
    : null,
  createdBy: r.created_by as string,
  createdAt: iso(r.created_at)!,
  updatedAt: iso(r.updated_at)!,
});

export async function insertModel(q: Queryable, m: ModelRow): Promise<void> {
  await q.query(
    `INSERT INTO models (id, name, owner, description, use_cases, risk_tier, tags, retention, created_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      m.id,
      m.name,
      m.owner,
      m.description,
      m.useCases,
      m.riskTier,
      m.tags,
      m.retention ? JSON.stringify(m.retention) : null,
      m.createdBy,
      m.createdAt,
      m.updatedAt,
    ],
  );
}

export async function updateModelRow(q: Queryable, m: ModelRow): Promise<void> {
  await q.query(
    `UPDATE models SET owner = $2, description = $3, use_cases = $4, risk_tier = $5, tags = $6, retention = $7,
       updated_at = $8 WHERE id = $1`,
    [
      m.id,
      m.owner,
      m.description,
      m.useCases,
      m.riskTier,
      m.tags,
      m.retention ? JSON.stringify(m.retention) : null,
      m.updatedAt,
    ],
  );
}

/** `forUpdate` locks the model row: version registration and alias moves serialise per model. */
export async function findModelRow(q: Queryable, name: string, forUpdate = false): Promise<ModelRow | null> {
  const rows = await q.query<Row>(
    `SELECT ${MODEL_COLS} FROM models m WHERE m.name = $1 ${forUpdate ? "FOR UPDATE" : ""}`,
    [name],
  );
  return rows[0] ? toModelRow(rows[0]) : null;
}

async function decorateModels(q: Queryable, rows: ModelRow[]): Promise<Model[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const aliasRows = await q.query<Row>(
    `SELECT a.model_id, a.alias, v.version FROM aliases a JOIN model_versions v ON v.id = a.version_id
      WHERE a.model_id = ANY($1) ORDER BY a.alias`,
    [ids],
  );
  // Per model through its (model_id, major, minor, patch) index, rather than aggregating every version.
  const stats = await q.query<Row>(
    `SELECT m.id AS model_id, c.n, l.version AS latest
       FROM unnest($1::text[]) AS m(id)
       CROSS JOIN LATERAL (SELECT count(*)::int AS n FROM model_versions v WHERE v.model_id = m.id) c
       LEFT JOIN LATERAL (SELECT v.version FROM model_versions v WHERE v.model_id = m.id
                           ORDER BY v.major DESC, v.minor DESC, v.patch DESC, (v.prerelease = '') DESC, v.prerelease DESC
                           LIMIT 1) l ON true`,
    [ids],
  );
  return rows.map((m) => {
    const s = stats.find((x) => x.model_id === m.id);
    return {
      ...m,
      aliases: Object.fromEntries(
        aliasRows.filter((a) => a.model_id === m.id).map((a) => [a.alias, a.version]),
      ),
      versionCount: (s?.n as number | undefined) ?? 0,
      latestVersion: (s?.latest as string | undefined) ?? null,
    };
  });
}

export async function getModel(q: Queryable, name: string): Promise<Model | null> {
  const row = await findModelRow(q, name);
  return row ? ((await decorateModels(q, [row]))[0] ?? null) : null;
}

/** Builds `WHERE` clauses with numbered parameters. */
function whereBuilder() {
  const clauses: string[] = [];
  const params: unknown[] = [];
  return {
    params,
    add(sql: string, ...values: unknown[]) {
      let s = sql;
      for (const v of values) {
        params.push(v);
        s = s.replace("?", `$${params.length}`);
      }
      clauses.push(s);
    },
    sql: () => (clauses.length ? `WHERE ${clauses.join(" AND ")}` : ""),
  };
}

const like = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function listModels(
  q: Queryable,
  f: ModelQuery,
): Promise<{ items: Model[]; next: string | null }> {
  const w = whereBuilder();
  if (f.q)
    w.add(
      `(m.name ILIKE ? OR m.description ILIKE ? OR m.owner ILIKE ? OR array_to_string(m.use_cases || m.tags, ' ') ILIKE ?)`,
      like(f.q),
      like(f.q),
      like(f.q),
      like(f.q),
    );
  if (f.useCase) w.add("? = ANY(m.use_cases)", f.useCase);
  if (f.owner) w.add("m.owner = ?", f.owner);
  if (f.tag) w.add("? = ANY(m.tags)", f.tag);
  if (f.riskTier) w.add("m.risk_tier = ?", f.riskTier);
  if (f.status)
    w.add("EXISTS (SELECT 1 FROM model_versions v WHERE v.model_id = m.id AND v.status = ?)", f.status);
  if (f.provider)
    w.add("EXISTS (SELECT 1 FROM model_versions v WHERE v.model_id = m.id AND v.provider = ?)", f.provider);
  if (f.cursor) w.add("m.name > ?", f.cursor);
  w.params.push(f.limit + 1);
  const rows = await q.query<Row>(
    `SELECT ${MODEL_COLS} FROM models m ${w.sql()} ORDER BY m.name LIMIT $${w.params.length}`,
    w.params,
  );
  const page = rows.slice(0, f.limit).map(toModelRow);
  return {
    items: await decorateModels(q, page),
    next: rows.length > f.limit ? page[page.length - 1]!.name : null,
  };
}

export interface VersionInsert {
  id: string;
  modelId: string;
  version: string;
  major: number;
  minor: number;
  patch: number;
  prerelease: string;
  provider: string;
  providerModelId: string;
  endpoint: string | null;
  parameters: Record<string, unknown>;
  artifact: { uri: string; digest: string } | null;
  contract: unknown;
  changelog: string;
  pinnedDigest: string;
  metrics: Record<string, number>;
  limitations: string[];
  tags: string[];
  status: Status;
  createdBy: string;
  at: string;
  /** A retrained candidate's lineage: the version it was retrained from and the task it answers. */
  retrainedFromVersionId?: string | null;
  retrainingTaskId?: string | null;
}

export async function insertVersion(q: Queryable, v: VersionInsert): Promise<void> {
  await q.query(
    `INSERT INTO model_versions (id, model_id, version, major, minor, patch, prerelease, provider, provider_model_id,
       endpoint, parameters, artifact_uri, artifact_digest, contract, changelog, pinned_digest, metrics, limitations,
       tags, status, created_by, created_at, updated_at, retrained_from_version_id, retraining_task_id)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$22,$23,$24)`,
    [
      v.id,
      v.modelId,
      v.version,
      v.major,
      v.minor,
      v.patch,
      v.prerelease,
      v.provider,
      v.providerModelId,
      v.endpoint,
      JSON.stringify(v.parameters),
      v.artifact?.uri ?? null,
      v.artifact?.digest ?? null,
      v.contract == null ? null : JSON.stringify(v.contract),
      v.changelog,
      v.pinnedDigest,
      JSON.stringify(v.metrics),
      v.limitations,
      v.tags,
      v.status,
      v.createdBy,
      v.at,
      v.retrainedFromVersionId ?? null,
      v.retrainingTaskId ?? null,
    ],
  );
}

export async function getVersion(q: Queryable, modelName: string, version: string): Promise<Version | null> {
  const rows = await q.query<Row>(
    `SELECT ${VERSION_COLS} FROM model_versions v JOIN models m ON m.id = v.model_id
      WHERE m.name = $1 AND v.version = $2`,
    [modelName, version],
  );
  return rows[0] ? toVersion(rows[0]) : null;
}

export async function versionsByIds(q: Queryable, ids: string[]): Promise<Version[]> {
  const rows = await q.query<Row>(
    `SELECT ${VERSION_COLS} FROM model_versions v JOIN models m ON m.id = v.model_id WHERE v.id = ANY($1)`,
    [ids],
  );
  const byId = new Map(rows.map((r) => [r.id as string, toVersion(r)]));
  return ids.map((id) => byId.get(id)).filter((v): v is Version => v !== undefined);
}

export async function getVersionById(q: Queryable, id: string): Promise<Version | null> {
  const rows = await q.query<Row>(
    `SELECT ${VERSION_COLS} FROM model_versions v JOIN models m ON m.id = v.model_id WHERE v.id = $1`,
    [id],
  );
  return rows[0] ? toVersion(rows[0]) : null;
}

/** All versions of one model (a model holds tens, not thousands: callers sort by semver in code). */
export async function versionsOfModel(q: Queryable, modelId: string): Promise<Version[]> {
  const rows = await q.query<Row>(
    `SELECT ${VERSION_COLS} FROM model_versions v JOIN models m ON m.id = v.model_id WHERE v.model_id = $1`,
    [modelId],
  );
  return rows.map(toVersion);
}

export function encodeCursor(parts: unknown[]): string {
  return Buffer.from(JSON.stringify(parts)).toString("base64url");
}

export function decodeCursor(cursor: string): unknown[] | null {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    return Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

export async function listVersions(
  q: Queryable,
  f: VersionQuery & { after?: [string, string] },
): Promise<{ items: Version[]; next: string | null }> {
  const w = whereBuilder();
  if (f.model) w.add("m.name = ?", f.model);
  if (f.q) w.add("v.search_text LIKE ?", like(f.q.toLowerCase()));
  if (f.useCase) w.add("? = ANY(m.use_cases)", f.useCase);
  if (f.owner) w.add("m.owner = ?", f.owner);
  if (f.tag) w.add("? = ANY(v.tags)", f.tag);
  if (f.status) w.add("v.status = ?", f.status);
  if (f.provider) w.add("v.provider = ?", f.provider);
  if (f.after) w.add("(v.created_at, v.id) < (?::timestamptz, ?)", f.after[0], f.after[1]);
  w.params.push(f.limit + 1);
  const rows = await q.query<Row>(
    `SELECT ${VERSION_COLS} FROM model_versions v JOIN models m ON m.id = v.model_id ${w.sql()}
      ORDER BY v.created_at DESC, v.id DESC LIMIT $${w.params.length}`,
    w.params,
  );
  const items = rows.slice(0, f.limit).map(toVersion);
  const last = items[items.length - 1];
  return { items, next: rows.length > f.limit && last ? encodeCursor([last.createdAt, last.id]) : null };
}

export async function updateVersionMutable(
  q: Queryable,
  id: string,
  p: { metrics: Record<string, number>; limitations: string[]; tags: string[]; at: string },
): Promise<void> {
  await q.query(
    `UPDATE model_versions SET metrics = $2, limitations = $3, tags = $4, updated_at = $5 WHERE id = $1`,
    [id, JSON.stringify(p.metrics), p.limitations, p.tags, p.at],
  );
}

export async function setStatus(
  q: Queryable,
  h: { id: string; versionId: string; from: Status; to: Status; reason: string; actor: string; at: string },
): Promise<void> {
  await q.query(
    `UPDATE model_versions SET status = $2, updated_at = $3,
        promoted_at = CASE WHEN $2 = 'production' THEN $3::timestamptz ELSE promoted_at END
      WHERE id = $1`,
    [h.versionId, h.to, h.at],
  );
  await q.query(
    `INSERT INTO version_status_history (id, version_id, from_status, to_status, reason, actor, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [h.id, h.versionId, h.from, h.to, h.reason, h.actor, h.at],
  );
}

/** Re-promoting a version that already is production (rollback to a kept version) refreshes its promotion time. */
export async function touchPromotion(q: Queryable, versionId: string, at: string): Promise<void> {
  await q.query("UPDATE model_versions SET promoted_at = $2, updated_at = $2 WHERE id = $1", [versionId, at]);
}

export async function statusHistory(q: Queryable, versionId: string) {
  const rows = await q.query<Row>(
    `SELECT from_status, to_status, reason, actor, at FROM version_status_history WHERE version_id = $1 ORDER BY at, id`,
    [versionId],
  );
  return rows.map((r) => ({
    from: (r.from_status as Status | null) ?? null,
    to: r.to_status as Status,
    reason: r.reason as string,
    actor: r.actor as string,
    at: iso(r.at)!,
  }));
}
