import { betaCredibleInterval } from "../../engines/stats/index.ts";
import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { invalid, notFound } from "../../lib/errors.ts";
import type { Db } from "../../store/db.ts";
import { parseWindow } from "../dependents/index.ts";
import type { RouteConfigService } from "../gateway/index.ts";
import { versionStatusByName } from "../registry/index.ts";
import { shadowPairs } from "../request-log/index.ts";
import { requireServable, type ServableGate } from "./serving.ts";

export interface ShadowVersionReport {
  version: string;
  mirrored: number;
  errors: number;
  /** Mirrored calls whose answer could be compared with the one served. */
  compared: number;
  agreed: number;
  agreementRate: number | null;
  /** Jeffreys 95% interval of the agreement rate. */
  agreementCi: [number, number] | null;
  shadowP95Ms: number | null;
  servedP95Ms: number | null;
  shadowCostUsd: number;
  servedCostUsd: number;
}

export interface ShadowReport {
  model: string;
  window: string;
  since: string;
  /** What the route mirrors now, if anything. */
  current: { version: string; share: number } | null;
  versions: ShadowVersionReport[];
}

/**
 * Shadow mode: mirror a share of a model's live (plain) traffic to a version without
 * returning its answers, and report how often it agrees with what was served. Starting and
 * stopping change the model's route config (audited; every replica follows within a second).
 */
export function createShadowService({
  db,
  clock,
  routes,
  servable,
}: {
  db: Db;
  clock: Clock;
  routes: RouteConfigService;
  /** Mirroring sends users' prompts to the version: it needs the approval that serving would. */
  servable: ServableGate;
}) {
  return {
    async start(ctx: RequestContext, model: string, version: string, share: number) {
      if (!(share > 0 && share <= 100)) throw invalid("body.share", "a percentage in (0, 100]");
      return db.transaction(async (tx) => {
        const cfg = await routes.getIn(tx, model);
        const found = await versionStatusByName(tx, model, version);
        // An unknown version is refused by the route config itself, naming the field.
        if (found)
          await requireServable(
            servable,
            tx,
            found,
            `${model}@${version}`,
            ": mirroring would send users' prompts to it",
          );
        return routes.set(ctx, model, { ...cfg, shadow: { version, share } }, tx);
      });
    },

    async stop(ctx: RequestContext, model: string) {
      return db.transaction(async (tx) => {
        const cfg = await routes.getIn(tx, model);
        if (!cfg.shadow) throw notFound(`a shadow of '${model}'`);
        return routes.set(ctx, model, { ...cfg, shadow: null }, tx);
      });
    },

    async report(model: string, window = "1h"): Promise<ShadowReport> {
      const ms = parseWindow(window);
      if (ms === null) throw invalid("query.window", "a duration like 15m, 24h or 7d (at most 366d)");
      const cfg = await routes.get(model);
      const since = new Date(clock.now().getTime() - ms);
      const rows = await shadowPairs(db, model, since);
      return {
        model,
        window,
        since: since.toISOString(),
        current: cfg.shadow,
        versions: rows.map((r) => ({
          version: r.version,
          mirrored: r.mirrored,
          errors: r.errors,
          compared: r.compared,
          agreed: r.agreed,
          agreementRate: r.compared ? r.agreed / r.compared : null,
          agreementCi: r.compared
            ? betaCredibleInterval({ alpha: r.agreed + 0.5, beta: r.compared - r.agreed + 0.5 })
            : null,
          shadowP95Ms: r.shadow_p95,
          servedP95Ms: r.served_p95,
          shadowCostUsd: r.shadow_cost ?? 0,
          servedCostUsd: r.served_cost ?? 0,
        })),
      };
    },
  };
}

export type ShadowService = ReturnType<typeof createShadowService>;
