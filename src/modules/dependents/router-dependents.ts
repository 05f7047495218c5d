import type { Queryable } from "../../store/db.ts";
import { type RouterPaths, routerPaths } from "../request-log/index.ts";

/** A router version whose tiers call the model, with the paths through those tiers. */
export type RouterCaller = RouterPaths & { model: string; viaTiers: string[] };

/**
 * Routers that depend on `model`: the router versions (of any model) whose policy has a tier
 * calling it (`model`, `model@alias`, `model@1.2.0`), each with its paths over [since, until)
 * that go through such a tier. A version without such traffic is listed with no paths: it
 * would send requests to the model if it served.
 */
export async function routerCallers(
  db: Queryable,
  model: string,
  since: Date,
  until: Date,
): Promise<RouterCaller[]> {
  const rows = await db.query<{ model: string; id: string; tiers: string[] }>(
    `SELECT m.name AS model, v.id,
            array(SELECT t->>'name' FROM jsonb_array_elements(v.parameters->'tiers') t
                   WHERE split_part(t->>'target', '@', 1) = $1) AS tiers
       FROM model_versions v JOIN models m ON m.id = v.model_id
      WHERE v.provider = 'router' AND v.status <> 'retired'
        AND jsonb_typeof(v.parameters->'tiers') = 'array'
        AND EXISTS (SELECT 1 FROM jsonb_array_elements(v.parameters->'tiers') t
                     WHERE split_part(t->>'target', '@', 1) = $1)
      ORDER BY m.name`,
    [model],
  );
  const byModel = new Map<string, Map<string, string[]>>();
  for (const r of rows) {
    const vs = byModel.get(r.model) ?? new Map<string, string[]>();
    vs.set(r.id, r.tiers);
    byModel.set(r.model, vs);
  }
  const out: RouterCaller[] = [];
  for (const [router, versions] of byModel)
    for (const v of await routerPaths(db, router, [...versions.keys()], since, until)) {
      const via = versions.get(v.versionId) ?? [];
      out.push({
        ...v,
        model: router,
        viaTiers: via,
        paths: v.paths.filter((p) => p.tiers.some((t) => via.includes(t.name))),
      });
    }
  return out;
}
