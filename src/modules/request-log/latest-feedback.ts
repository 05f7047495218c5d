import type { Queryable } from "../../store/db.ts";
import { groupsKey, type RequestFacts, type RollupDeltas } from "./rollup.ts";

// The latest feedback of a request, which the roll-ups count (a superseding answer moves the
// request's counts from the one it replaces): which is newer, and the move.

export interface LatestFeedback {
  id: string;
  requestId: string;
  at: number;
  success: boolean | null;
  score: number | null;
  groups: Record<string, string>;
}

/** Newer wins: later time, then the larger id (the raw windows order the same way). */
export function newer(a: LatestFeedback, b: LatestFeedback | undefined): boolean {
  return !b || a.at > b.at || (a.at === b.at && a.id > b.id);
}

const sameAnswer = (a: LatestFeedback, b: LatestFeedback) =>
  a.success === b.success && a.score === b.score && groupsKey(a.groups) === groupsKey(b.groups);

/** Moves a request's counted feedback from `before` to `after` (either may be absent). */
export function replaceFeedback(
  d: RollupDeltas,
  r: RequestFacts,
  before: LatestFeedback | undefined,
  after: LatestFeedback | undefined,
): void {
  if (before && after && sameAnswer(before, after)) return;
  if (before) d.addFeedback(r, before, -1);
  if (after) d.addFeedback(r, after, 1);
}

export const toLatest = (r: {
  id: string;
  request_id: string;
  at: Date | string;
  success: boolean | null;
  score: number | null;
  groups: Record<string, string> | null;
}): LatestFeedback => ({
  id: r.id,
  requestId: r.request_id,
  at: new Date(r.at).getTime(),
  success: r.success,
  score: r.score === null ? null : Number(r.score),
  groups: r.groups ?? {},
});

/**
 * The latest feedback of each request (stamped no earlier than `since`), leaving out the
 * rows whose ids are in `except` (a batch's own, not yet counted).
 */
export async function latestFeedback(
  q: Queryable,
  requestIds: readonly string[],
  since: Date,
  except: readonly string[] = [],
): Promise<Map<string, LatestFeedback>> {
  if (!requestIds.length) return new Map();
  const rows = await q.query<Parameters<typeof toLatest>[0]>(
    `SELECT DISTINCT ON (request_id) id, request_id, at, success, score, groups
       FROM feedback
      WHERE request_id = ANY($1::text[]) AND at >= $2 AND NOT (id = ANY($3::text[]))
      ORDER BY request_id, at DESC, id DESC`,
    [requestIds, since.toISOString(), except],
  );
  return new Map(rows.map((r) => [r.request_id, toLatest(r)]));
}
