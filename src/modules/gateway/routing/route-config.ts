import { z } from "@hono/zod-openapi";
import type { RequestContext } from "../../../http/context.ts";
import type { Clock } from "../../../lib/clock.ts";
import { invalid, notFound } from "../../../lib/errors.ts";
import type { Db, Tx } from "../../../store/db.ts";
import { recordAudit } from "../../audit/index.ts";
import { findFlag } from "../../flags/index.ts";
import { lockModel, modelIdByName, SemverString } from "../../registry/index.ts";

export const RouteConfigSchema = z
  .object({
    split: z
      .array(z.object({ version: SemverString, weight: z.number().min(0).max(100) }).strict())
      .max(20)
      .nullable()
      .default(null)
      .describe(
        "weighted split between versions (rollouts and experiments set it); null routes to the production alias",
      ),
    splitScope: z
      .string()
      .min(1)
      .max(128)
      .nullable()
      .default(null)
      .describe(
        "the split's identity (experiments set their id): the request log counts each scope's distinct subjects per version exactly; cleared with the split",
      ),
    shadow: z
      .object({
        version: SemverString,
        share: z.number().gt(0).max(100).describe("percent of plain (non-streaming) calls mirrored"),
      })
      .strict()
      .nullable()
      .default(null)
      .describe(
        "shadow mode: mirror a share of live traffic to this version; its answers are never returned",
      ),
    fallback: z
      .array(SemverString)
      .max(10)
      .default([])
      .describe("versions tried in order when the chosen one fails"),
    flag: z
      .string()
      .min(1)
      .max(128)
      .nullable()
      .optional()
      .describe(
        "a string flag that decides the version for a request naming the bare model: its variants name `<this model>@<version|alias>` (docs/flags.md, In the gateway); null or absent: the split, else production",
      ),
    allowPinning: z.boolean().default(false).describe("may callers name a version with model@1.2.3?"),
    timeouts: z
      .object({
        totalMs: z.number().int().min(100).max(600_000),
        firstByteMs: z.number().int().min(100).max(600_000),
        idleMs: z.number().int().min(100).max(600_000),
      })
      .partial()
      .strict()
      .optional(),
    breaker: z
      .object({
        windowSize: z.number().int().min(1).max(1000),
        minimumCalls: z.number().int().min(1).max(1000),
        failureRatePct: z.number().min(1).max(100),
        slowCallRatePct: z.number().min(1).max(100),
        slowCallMs: z.number().int().min(1),
        openMs: z.number().int().min(100),
        halfOpenCalls: z.number().int().min(1).max(100),
      })
      .partial()
      .strict()
      .optional(),
    prices: z
      .record(
        SemverString,
        z.object({ inputPer1kUsd: z.number().min(0), outputPer1kUsd: z.number().min(0) }).strict(),
      )
      .default({})
      .describe("per-version price table for the request log's cost"),
  })
  .strict()
  .openapi("RouteConfig");
export type RouteConfig = z.infer<typeof RouteConfigSchema>;

export function createRouteConfigService({ db, clock }: { db: Db; clock: Clock }) {
  async function modelId(q: Tx | Db, name: string) {
    const id = await modelIdByName(q, name);
    if (!id) throw notFound(`model '${name}'`);
    return id;
  }
  async function read(q: Tx | Db, id: string): Promise<RouteConfig> {
    const rows = await q.query<Record<string, unknown>>("SELECT * FROM model_routes WHERE model_id = $1", [
      id,
    ]);
    const r = rows[0];
    return RouteConfigSchema.parse(
      r
        ? {
            split: r.split ?? null,
            splitScope: r.split ? (r.split_scope ?? null) : null,
            shadow: r.shadow ?? null,
            fallback: r.fallback ?? [],
            ...(r.flag ? { flag: r.flag } : {}),
            allowPinning: r.allow_pinning,
            timeouts: r.timeouts ?? undefined,
            breaker: r.breaker ?? undefined,
            prices: r.prices ?? {},
          }
        : {},
    );
  }
  return {
    get: async (model: string) => read(db, await modelId(db, model)),
    /** The same read on the caller's transaction (spec apply). */
    getIn: async (q: Tx, model: string) => read(q, await modelId(q, model)),
    async set(ctx: RequestContext, model: string, cfg: RouteConfig, q?: Tx): Promise<RouteConfig> {
      const run = async (tx: Tx) => {
        const id = await modelId(tx, model);
        await lockModel(tx, id);
        const known = new Map(
          (
            await tx.query<{ version: string; status: string }>(
              "SELECT version, status FROM model_versions WHERE model_id = $1",
              [id],
            )
          ).map((r) => [r.version, r.status]),
        );
        const check = (field: string, v: string) => {
          if (!known.has(v)) throw invalid(field, `version ${v} of '${model}' is not registered`);
          if (known.get(v) === "retired") throw invalid(field, `version ${v} of '${model}' is retired`);
        };
        for (const [i, a] of (cfg.split ?? []).entries()) check(`body.split.${i}.version`, a.version);
        if (cfg.split && !cfg.split.some((a) => a.weight > 0))
          throw invalid("body.split", "at least one arm needs a weight above 0");
        for (const [i, v] of cfg.fallback.entries()) check(`body.fallback.${i}`, v);
        if (cfg.shadow) check("body.shadow.version", cfg.shadow.version);
        if (cfg.flag) await checkFlag(tx, model, cfg.flag, check);
        const before = await read(tx, id);
        await tx.query(
          `INSERT INTO model_routes (model_id, split, fallback, allow_pinning, timeouts, breaker, prices, updated_at, shadow, split_scope, flag)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (model_id) DO UPDATE SET split = EXCLUDED.split, split_scope = EXCLUDED.split_scope, fallback = EXCLUDED.fallback,
             allow_pinning = EXCLUDED.allow_pinning, timeouts = EXCLUDED.timeouts, breaker = EXCLUDED.breaker,
             prices = EXCLUDED.prices, updated_at = EXCLUDED.updated_at, shadow = EXCLUDED.shadow,
             flag = EXCLUDED.flag`,
          [
            id,
            cfg.split ? JSON.stringify(cfg.split) : null,
            JSON.stringify(cfg.fallback),
            cfg.allowPinning,
            cfg.timeouts ? JSON.stringify(cfg.timeouts) : null,
            cfg.breaker ? JSON.stringify(cfg.breaker) : null,
            JSON.stringify(cfg.prices),
            clock.now().toISOString(),
            cfg.shadow ? JSON.stringify(cfg.shadow) : null,
            cfg.split ? cfg.splitScope : null,
            cfg.flag ?? null,
          ],
        );
        await recordAudit(tx, ctx, clock.now(), {
          action: "route.updated",
          subjectType: "model",
          subjectId: id,
          before,
          after: cfg,
        });
        return cfg;
      };
      return q ? run(q) : db.transaction(run);
    },
  };
}

const SEMVER_LIKE = /^\d+\.\d+\.\d+/;

/**
 * A route's flag: it exists, is a string flag, and every variant names a version or alias of
 * this model (never another model's: the flag changes which version of this model serves, so
 * a route change cannot send its traffic elsewhere). A named version is registered and not
 * retired; an alias is taken as it stands when a request comes (the gateway refuses a missing one).
 */
async function checkFlag(tx: Tx, model: string, key: string, check: (field: string, v: string) => void) {
  const flag = await findFlag(tx, key);
  if (!flag) throw invalid("body.flag", `no flag '${key}'`);
  if (flag.type !== "string") throw invalid("body.flag", `'${key}' is a ${flag.type} flag, not a string one`);
  for (const [name, value] of Object.entries(flag.variants)) {
    const at = (value as string).indexOf("@");
    if (at < 0 || (value as string).slice(0, at) !== model || at === (value as string).length - 1)
      throw invalid(
        "body.flag",
        `variant '${name}' of '${key}' is "${value as string}": a route's flag names ${model}@<version|alias>`,
      );
    const selector = (value as string).slice(at + 1);
    if (SEMVER_LIKE.test(selector)) check("body.flag", selector);
  }
}

export type RouteConfigService = ReturnType<typeof createRouteConfigService>;
