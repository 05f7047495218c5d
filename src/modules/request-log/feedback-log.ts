import { jsonInsertSql } from "../../lib/batch-sink.ts";
import { type BatchWriter, createBatchWriter } from "../../lib/batch-writer.ts";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import type { SpoolRow } from "../../lib/spool.ts";
import type { Queryable } from "../../store/db.ts";
import { createPartitionCache, type PartitionCache } from "./partitions.ts";
import { transactional, withPartitions } from "./request-log.ts";
import {
  applyDeltas,
  FEEDBACK_SKEW_MS,
  latestFeedback,
  minuteOf,
  newer,
  type RequestFacts,
  ROLLUP_LOCK,
  RollupDeltas,
  replaceFeedback,
  toLatest,
} from "./rollup.ts";

/** What is stored: the feedback, who gave it and when. */
export interface FeedbackRecord {
  /** `fbk_` + SHA-256 over (token, request, content): the same feedback sent twice is one row. */
  id: string;
  requestId: string;
  at: Date;
  success: boolean | null;
  score: number | null;
  labels: string[];
  groups: Record<string, string>;
  comment: string;
  /** The answer that should have been given, when the caller sent one (absent in older spooled rows). */
  correction?: string | null;
  tokenId: string;
  client: string;
}

const COLUMNS = [
  ["id", "text"],
  ["request_id", "text"],
  ["at", "timestamptz"],
  ["success", "boolean"],
  ["score", "double precision"],
  ["labels", "text[]"],
  ["groups", "jsonb"],
  ["comment", "text"],
  ["correction", "text"],
  ["token_id", "text"],
  ["client", "text"],
] as const;

const toRow = (f: FeedbackRecord) => ({
  id: f.id,
  request_id: f.requestId,
  at: f.at.toISOString(),
  success: f.success,
  score: f.score,
  labels: f.labels,
  groups: f.groups,
  comment: f.comment,
  correction: f.correction ?? null,
  token_id: f.tokenId,
  client: f.client,
});

const INSERT = jsonInsertSql("feedback", COLUMNS, {
  conflict: ["id", "at"],
  returning: "id, request_id, at, success, score, groups",
});

/**
 * One batch into feedback and the roll-ups, in one transaction under the roll-up lock (held
 * exclusively: feedback batches see every request and feedback committed before them). An id
 * already stored is skipped (the same feedback sent twice, at another time, adds nothing).
 * For each request already logged whose latest feedback changed, the old answer leaves its
 * minute's sums and the new one enters.
 */
export async function insertFeedbackBatch(
  q: Queryable,
  rows: SpoolRow[],
  cache: PartitionCache = createPartitionCache(),
): Promise<void> {
  const db = transactional(q);
  await withPartitions(
    cache,
    db,
    "feedback",
    rows.map((r) => r.at),
    () =>
      db.transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock($1)", [ROLLUP_LOCK]);
        const present = new Set(
          (
            await tx.query<{ id: string }>("SELECT id FROM feedback WHERE id = ANY($1::text[])", [
              rows.map((r) => r.id),
            ])
          ).map((r) => r.id),
        );
        const fresh = rows.filter((r) => !present.has(r.id as string));
        if (!fresh.length) return;
        const inserted = (
          await tx.query<Parameters<typeof toLatest>[0]>(INSERT, [JSON.stringify(fresh)])
        ).map(toLatest);
        if (!inserted.length) return;
        const requestIds = [...new Set(inserted.map((f) => f.requestId))];
        const latestAt = Math.max(...inserted.map((f) => f.at));
        const requests = await tx.query<{
          id: string;
          at: Date;
          model: string;
          routed_version_id: string | null;
          groups: Record<string, string> | null;
          route_key: string | null;
        }>(
          `SELECT id, at, model, routed_version_id, groups, route_key FROM request_log
            WHERE id = ANY($1::text[]) AND at <= $2 AND shadow_of IS NULL`,
          [requestIds, new Date(latestAt + FEEDBACK_SKEW_MS).toISOString()],
        );
        if (!requests.length) return;
        const earliest = Math.min(...requests.map((r) => new Date(r.at).getTime()));
        const before = await latestFeedback(
          tx,
          requests.map((r) => r.id),
          new Date(earliest - FEEDBACK_SKEW_MS),
          inserted.map((f) => f.id),
        );
        const d = new RollupDeltas();
        for (const r of requests) {
          const bound = new Date(r.at).getTime() - FEEDBACK_SKEW_MS;
          const old = before.get(r.id);
          const prior = old && old.at >= bound ? old : undefined;
          let after = prior;
          for (const f of inserted) if (f.requestId === r.id && f.at >= bound && newer(f, after)) after = f;
          if (after === prior) continue;
          const facts: RequestFacts = {
            id: r.id,
            model: r.model,
            minute: minuteOf(r.at),
            versionId: r.routed_version_id ?? "",
            groups: r.groups,
            path: r.route_key,
          };
          replaceFeedback(d, facts, prior, after);
        }
        await applyDeltas(tx, d);
      }),
  );
}

export type FeedbackWriter = BatchWriter<FeedbackRecord>;

/** Feedback goes through the same batch writer and spool as the request log, under its own name. */
export function createFeedbackWriter(opts: {
  db: Queryable;
  clock: Clock;
  logger: Logger;
  spoolDir: string;
  batchSize?: number;
  writeTimeoutMs?: number;
}): FeedbackWriter {
  const cache = createPartitionCache();
  return createBatchWriter({
    ...opts,
    sink: { name: "feedback", toRow, insert: (q, rows) => insertFeedbackBatch(q, rows, cache) },
  });
}
