import { notFound } from "../../lib/errors.ts";
import type { Queryable } from "../../store/db.ts";
import { getVersion } from "./registry.store.ts";

/**
 * A list filter by model, or by model and version, as ids: `{ versionId }` with both,
 * `{ modelId }` with the model alone, `{}` with neither. An unknown name is a 404.
 */
export async function scopeIds(
  q: Queryable,
  f: { model?: string; version?: string },
): Promise<{ versionId?: string; modelId?: string }> {
  if (f.model && f.version) {
    const v = await getVersion(q, f.model, f.version);
    if (!v) throw notFound(`version '${f.version}' of model '${f.model}'`);
    return { versionId: v.id };
  }
  if (!f.model) return {};
  const m = await q.query<{ id: string }>("SELECT id FROM models WHERE name = $1", [f.model]);
  if (!m[0]) throw notFound(`model '${f.model}'`);
  return { modelId: m[0].id };
}
