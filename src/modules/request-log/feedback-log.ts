import { jsonBatchInsert } from "../../lib/batch-sink.ts";
import { type BatchWriter, createBatchWriter } from "../../lib/batch-writer.ts";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Queryable } from "../../store/db.ts";

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
  token_id: f.tokenId,
  client: f.client,
});

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
  return createBatchWriter({
    ...opts,
    sink: { name: "feedback", toRow, insert: jsonBatchInsert("feedback", COLUMNS) },
  });
}
