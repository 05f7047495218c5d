import type { Clock } from "../../lib/clock.ts";
import { invalid, notFound } from "../../lib/errors.ts";
import type { Queryable } from "../../store/db.ts";
import type { Dependent, Dependents } from "./dependents.schemas.ts";
import { parseWindow } from "./window.ts";

interface Row {
  client: string;
  version_id: string | null;
  version: string | null;
  requests: number;
  errors: number;
  last_seen: Date;
}

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
      if (!(await db.query("SELECT 1 FROM models WHERE name = $1", [model])).length)
        throw notFound(`model '${model}'`);
      const until = clock.now();
      const since = new Date(until.getTime() - ms);
      // Only a lower bound: a replica whose clock runs ahead must not hide its newest rows.
      const rows = await db.query<Row>(
        `SELECT client, version_id, version, count(*)::int AS requests,
                count(*) FILTER (WHERE status >= 400)::int AS errors, max(at) AS last_seen
           FROM request_log
          WHERE model = $1 AND at >= $2 AND shadow_of IS NULL
          GROUP BY client, version_id, version
          ORDER BY requests DESC, client, version NULLS LAST`,
        [model, since.toISOString()],
      );
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
      };
    },
  };
}

export type DependentsService = ReturnType<typeof createDependentsService>;
