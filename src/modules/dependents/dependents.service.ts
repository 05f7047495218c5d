import type { Clock } from "../../lib/clock.ts";
import { invalid, notFound } from "../../lib/errors.ts";
import { parseWindow } from "../../lib/window.ts";
import type { Queryable } from "../../store/db.ts";
import { modelExists } from "../registry/index.ts";
import { clientTraffic, routerPaths } from "../request-log/index.ts";
import type { Dependent, Dependents } from "./dependents.schemas.ts";
import { routerCallers } from "./router-dependents.ts";

/**
 * Blast radius: who called a model, through which versions, in a time window — read from
 * the gateway's request log, so it knows only what has been flushed (a few hundred ms behind).
 * Shadow calls (mirrored, never returned to the client) are left out.
 */
export function createDependentsService({ db, clock }: { db: Queryable; clock: Clock }) {
  return {
    async dependents(model: string, window = "24h"): Promise<Dependents> {
      const ms = parseWindow(window);
      if (ms === null) throw invalid("query.window", "a duration like 15m, 24h or 7d (at most 366d)");
      if (!(await modelExists(db, model))) throw notFound(`model '${model}'`);
      const until = clock.now();
      const since = new Date(until.getTime() - ms);
      const rows = await clientTraffic(db, model, since);
      const dependents: Dependent[] = rows.map((r) => ({
        client: r.client,
        versionId: r.version_id,
        version: r.version,
        requests: r.requests,
        errors: r.errors,
        errorRate: r.requests ? r.errors / r.requests : 0,
        lastSeen: r.last_seen.toISOString(),
      }));
      return {
        model,
        window,
        since: since.toISOString(),
        until: until.toISOString(),
        totals: {
          requests: dependents.reduce((n, d) => n + d.requests, 0),
          errors: dependents.reduce((n, d) => n + d.errors, 0),
          clients: new Set(dependents.map((d) => d.client)).size,
          versions: new Set(dependents.flatMap((d) => (d.versionId ? [d.versionId] : []))).size,
        },
        dependents,
        paths: await routerPaths(db, model, null, since, until),
        calledBy: await routerCallers(db, model, since, until),
      };
    },
  };
}

export type DependentsService = ReturnType<typeof createDependentsService>;
