import type { Queryable } from "../../store/db.ts";

/*
 * The registry's reads for other modules: a model by name, its versions, and the row lock
 * that serialises changes to one model. The models and model_versions tables are the
 * registry's; other modules ask it here instead of writing their own SQL on them.
 */

/** The id of the model named `name`, or null. */
export async function modelIdByName(q: Queryable, name: string): Promise<string | null> {
  const rows = await q.query<{ id: string }>("SELECT id FROM models WHERE name = $1", [name]);
  return rows[0]?.id ?? null;
}

/** The model named `name` (its id and name), or null. */
export async function modelByName(q: Queryable, name: string): Promise<{ id: string; name: string } | null> {
  const rows = await q.query<{ id: string; name: string }>("SELECT id, name FROM models WHERE name = $1", [
    name,
  ]);
  return rows[0] ?? null;
}

/** Whether a model of that name is registered. */
export async function modelExists(q: Queryable, name: string): Promise<boolean> {
  return (await q.query("SELECT 1 FROM models WHERE name = $1", [name])).length > 0;
}

/**
 * Locks the model's row until the transaction ends: changes to one model (card, approval,
 * evaluation, rollout, experiment, routes) then run one after the other.
 */
export async function lockModelByName(tx: Queryable, name: string): Promise<void> {
  await tx.query("SELECT id FROM models WHERE name = $1 FOR UPDATE", [name]);
}

/** lockModelByName, by the model's id. */
export async function lockModel(tx: Queryable, modelId: string): Promise<void> {
  await tx.query("SELECT id FROM models WHERE id = $1 FOR UPDATE", [modelId]);
}

/**
 * A weaker lock on the model's row (FOR NO KEY UPDATE): serialises a job's own writes about
 * one model without blocking rows that only reference it.
 */
export async function lockModelNoKeyUpdate(tx: Queryable, modelId: string): Promise<void> {
  await tx.query("SELECT id FROM models WHERE id = $1 FOR NO KEY UPDATE", [modelId]);
}

/** What a policy selects a model by: its name, risk tier and use cases; null when there is no such model. */
export async function modelFacts(
  q: Queryable,
  modelId: string,
): Promise<{ name: string; riskTier: string; useCases: string[] } | null> {
  const rows = await q.query<{ name: string; risk_tier: string; use_cases: string[] }>(
    "SELECT name, risk_tier, use_cases FROM models WHERE id = $1",
    [modelId],
  );
  const m = rows[0];
  return m ? { name: m.name, riskTier: m.risk_tier, useCases: m.use_cases } : null;
}

/** Every version of the model (retired ones too), with its lifecycle status. */
export async function versionStatuses(
  q: Queryable,
  modelId: string,
): Promise<{ id: string; version: string; status: string }[]> {
  return q.query<{ id: string; version: string; status: string }>(
    "SELECT id, version, status FROM model_versions WHERE model_id = $1",
    [modelId],
  );
}

/** One version of the model named `model`, by its version string: its id and status, or null. */
export async function versionStatusByName(
  q: Queryable,
  model: string,
  version: string,
): Promise<{ id: string; status: string } | null> {
  const rows = await q.query<{ id: string; status: string }>(
    `SELECT v.id, v.status FROM model_versions v JOIN models m ON m.id = v.model_id
      WHERE m.name = $1 AND v.version = $2`,
    [model, version],
  );
  return rows[0] ?? null;
}

/** The model named `name` as its stored row (every column), or null: what `apply` compares with. */
export async function modelRowByName(q: Queryable, name: string): Promise<Record<string, unknown> | null> {
  return (await q.query<Record<string, unknown>>("SELECT * FROM models WHERE name = $1", [name]))[0] ?? null;
}

/** How many models are registered (the demo seeds only an empty registry). */
export async function modelCount(q: Queryable): Promise<number> {
  return (await q.query<{ n: number }>("SELECT count(*)::int AS n FROM models"))[0]?.n ?? 0;
}

/** The id of the version the model's production alias points at, or null. */
export async function productionVersionId(q: Queryable, modelId: string): Promise<string | null> {
  const rows = await q.query<{ version_id: string | null }>(
    "SELECT version_id FROM aliases WHERE model_id = $1 AND alias = 'production'",
    [modelId],
  );
  return rows[0]?.version_id ?? null;
}
