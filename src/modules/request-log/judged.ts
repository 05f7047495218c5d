import type { Queryable } from "../../store/db.ts";
import type { RouteMember } from "./request-log.ts";
import { FEEDBACK_SKEW_MS } from "./rollup.ts";

/**
 * Requests that feedback judged: the raw requests of some models over a time range whose
 * latest feedback exists, with what the gateway did (the routed and answering versions, a
 * router's path) and the body the body policy kept. Training a router from feedback labels
 * them. The latest feedback per request is the latest by time (then id), from any client, as
 * the roll-ups and the failing slice take it; shadow (mirrored) calls are left out.
 */
export interface JudgedFilter {
  models: readonly string[];
  from: Date;
  to: Date;
}

export interface JudgedRow {
  id: string;
  at: Date;
  model: string;
  /** The version the route chose (a router version for a request a router handled). */
  routedVersionId: string | null;
  /** The version that answered (for a router: the tier's). */
  versionId: string | null;
  routeReason: string;
  status: number;
  routePath: RouteMember[] | null;
  /** `{ request, response }` as the gateway kept it, or null when the body policy kept none. */
  sampledBody: { request?: unknown; response?: unknown } | null;
  /** The latest feedback's verdict; null when it carried a score or labels only. */
  success: boolean | null;
}

/** One page, newest first, before `before` in (at, id) order: a reader holds one page at a time. */
export async function judgedRequestsPage(
  q: Queryable,
  f: JudgedFilter,
  before: { at: Date; id: string } | null,
  limit: number,
): Promise<JudgedRow[]> {
  if (f.models.length === 0) return [];
  const rows = await q.query<Record<string, unknown>>(
    `SELECT r.id, r.at, r.model, r.routed_version_id, r.version_id, r.route_reason, r.status,
            r.route_path, r.sampled_body, fb.success
       FROM request_log r
       JOIN LATERAL (SELECT success FROM feedback
                      WHERE request_id = r.id AND at >= r.at - interval '${FEEDBACK_SKEW_MS} milliseconds'
                      ORDER BY at DESC, id DESC LIMIT 1) fb ON true
      WHERE r.model = ANY($1::text[]) AND r.shadow_of IS NULL AND r.at >= $2 AND r.at < $3
        AND ($4::timestamptz IS NULL OR (r.at, r.id) < ($4::timestamptz, $5::text))
      ORDER BY r.at DESC, r.id DESC
      LIMIT $6`,
    [
      f.models,
      f.from.toISOString(),
      f.to.toISOString(),
      before?.at.toISOString() ?? null,
      before?.id ?? "",
      limit,
    ],
  );
  return rows.map((r) => ({
    id: r.id as string,
    at: new Date(r.at as string),
    model: r.model as string,
    routedVersionId: (r.routed_version_id as string | null) ?? null,
    versionId: (r.version_id as string | null) ?? null,
    routeReason: (r.route_reason as string | null) ?? "",
    status: Number(r.status),
    routePath: (r.route_path as RouteMember[] | null) ?? null,
    sampledBody: (r.sampled_body as JudgedRow["sampledBody"]) ?? null,
    success: (r.success as boolean | null) ?? null,
  }));
}
