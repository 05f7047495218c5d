import { z } from "@hono/zod-openapi";
import type { Queryable } from "../../store/db.ts";
import { pathCounts, pathStats } from "./path-windows.ts";
import { NO_PATH } from "./route-key.ts";
import type { ReadOptions } from "./windows.ts";

/*
 * Success by path, as the views show it (monitoring, dependents, experiments): per router
 * version, its paths over a window with their rates, and the tiers each path went through
 * (names and the models they call, from the version's policy). One statement of it, so the
 * three views agree.
 */

export const RouterPathSchema = z
  .object({
    path: z
      .string()
      .describe(
        "the tiers taken: a route's tier (`strong`), a cascade's tiers in order (`cheap>strong`), an ensemble's chosen tier; `(none)` when no tier answered",
      ),
    tiers: z
      .array(z.object({ name: z.string(), target: z.string().nullable() }))
      .describe(
        "the path's tiers and the models they call (the version's policy; null for a tier it no longer names)",
      ),
    requests: z.number().int(),
    errors: z.number().int().describe("a 5xx, or a first attempt not served"),
    costUsd: z.number().describe("the requests' cost: every tier they called"),
    judged: z.number().int().describe("requests whose latest feedback says success or failure"),
    successes: z.number().int(),
    share: z.number().describe("share of the version's router requests"),
    successRate: z.number().nullable(),
    costPerRequestUsd: z.number().nullable(),
    costPerSuccessUsd: z
      .number()
      .nullable()
      .describe("cost per request over the success rate (feedback may cover only some requests)"),
  })
  .openapi("RouterPath");
export type RouterPath = z.infer<typeof RouterPathSchema>;

export const RouterPathsSchema = z
  .object({
    versionId: z.string(),
    version: z.string(),
    strategy: z.string().describe("route, cascade or ensemble"),
    paths: z.array(RouterPathSchema).describe("busiest first"),
  })
  .openapi("RouterPaths");
export type RouterPaths = z.infer<typeof RouterPathsSchema>;

interface RouterVersion {
  id: string;
  version: string;
  parameters: { strategy?: string; tiers?: { name?: string; target?: string }[] };
}

/**
 * The router versions among `versionIds` of `model` (every router version of it with traffic
 * in the window when null), each with its paths over [from, to): versions that are not
 * routers are left out; a router without traffic has no paths.
 */
export async function routerPaths(
  db: Queryable,
  model: string,
  versionIds: readonly string[] | null,
  from: Date,
  to: Date,
  opts: ReadOptions = {},
): Promise<RouterPaths[]> {
  const versions = await db.query<RouterVersion>(
    `SELECT v.id, v.version, v.parameters FROM model_versions v JOIN models m ON m.id = v.model_id
      WHERE m.name = $1 AND v.provider = 'router' AND ($2::text[] IS NULL OR v.id = ANY($2::text[]))
      ORDER BY v.major DESC, v.minor DESC, v.patch DESC, v.version DESC`,
    [model, versionIds],
  );
  if (!versions.length) return [];
  const counts = await pathCounts(
    db,
    model,
    versions.map((v) => v.id),
    from,
    to,
    opts,
  );
  const out: RouterPaths[] = [];
  for (const v of versions) {
    const paths = counts.get(v.id) ?? [];
    if (versionIds === null && !paths.length) continue;
    const targets = new Map((v.parameters.tiers ?? []).map((t) => [t.name, t.target ?? null]));
    out.push({
      versionId: v.id,
      version: v.version,
      strategy: v.parameters.strategy ?? "route",
      paths: pathStats(paths).map((p) => ({
        ...p,
        tiers:
          p.path === NO_PATH
            ? []
            : p.path.split(">").map((name) => ({ name, target: targets.get(name) ?? null })),
      })),
    });
  }
  return out;
}
