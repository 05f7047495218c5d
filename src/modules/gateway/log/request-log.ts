import type { Clock } from "../../../lib/clock.ts";
import type { Logger } from "../../../lib/logger.ts";
import type { Queryable } from "../../../store/db.ts";
import { type BatchWriter, createBatchWriter, jsonBatchInsert } from "./batch-writer.ts";

/** One attempt in the order the gateway tried versions (primary first, then fallbacks). */
export interface FallbackStep {
  /** The version tried, e.g. `1.2.0`. */
  version: string;
  /** `ok`: it answered; `error`: it failed and the next was tried; `skipped`: not tried (breaker open, refused). */
  outcome: "ok" | "error" | "skipped";
  /** Why: `timeout`, `http_503`, `breaker_open`, `connect`, ... (empty when ok). */
  reason: string;
}

/**
 * What the gateway hands to `record()` once it has answered a request. The writer owns
 * the object from then on: do not mutate it afterwards.
 */
export interface RequestLogEntry {
  /** The gateway request id (`req_…`): the primary key, so a replayed batch adds nothing. */
  id: string;
  /** When the request arrived. */
  at: Date | string;
  tokenId: string;
  /** The token's name. */
  client: string;
  /** The registry model name (without `@alias` / `@version`). */
  model: string;
  /** The version that answered, or the last one tried; null when none was resolved. */
  versionId: string | null;
  version: string | null;
  /** From routing: `alias:production`, `split:90/10 bucket=4231`, `pinned`. */
  routeReason: string;
  endpoint: "chat.completions" | "messages";
  stream: boolean;
  /** The HTTP status the caller got. */
  status: number;
  /** Null on success; else a short class: `timeout`, `upstream_5xx`, `breaker_open`, `invalid_request`, ... */
  errorClass: string | null;
  totalMs: number;
  upstreamMs: number | null;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  fallbackPath: FallbackStep[];
  /** Privacy: hashes only; bodies only for sampled requests. */
  subjectHash?: string | null;
  groups?: Record<string, string> | null;
  promptHash?: string | null;
  responseHash?: string | null;
  sampledBody?: unknown;
}

const COLUMNS = [
  ["id", "text"],
  ["at", "timestamptz"],
  ["token_id", "text"],
  ["client", "text"],
  ["model", "text"],
  ["version_id", "text"],
  ["version", "text"],
  ["route_reason", "text"],
  ["endpoint", "text"],
  ["stream", "boolean"],
  ["status", "integer"],
  ["error_class", "text"],
  ["total_ms", "real"],
  ["upstream_ms", "real"],
  ["tokens_in", "integer"],
  ["tokens_out", "integer"],
  ["cost_usd", "double precision"],
  ["fallback_path", "jsonb"],
  ["subject_hash", "text"],
  ["groups", "jsonb"],
  ["prompt_hash", "text"],
  ["response_hash", "text"],
  ["sampled_body", "jsonb"],
] as const;

/** The spool line and the insert row: the table's column names. */
export function requestLogRow(e: RequestLogEntry): Record<string, unknown> {
  return {
    id: e.id,
    at: e.at instanceof Date ? e.at.toISOString() : e.at,
    token_id: e.tokenId,
    client: e.client,
    model: e.model,
    version_id: e.versionId,
    version: e.version,
    route_reason: e.routeReason,
    endpoint: e.endpoint,
    stream: e.stream,
    status: e.status,
    error_class: e.errorClass,
    total_ms: e.totalMs,
    upstream_ms: e.upstreamMs,
    // Token counts are whole numbers; a provider reporting 12.0 must not fail the batch.
    tokens_in: Math.round(e.tokensIn),
    tokens_out: Math.round(e.tokensOut),
    cost_usd: e.costUsd,
    fallback_path: e.fallbackPath,
    subject_hash: e.subjectHash ?? null,
    groups: e.groups ?? null,
    prompt_hash: e.promptHash ?? null,
    response_hash: e.responseHash ?? null,
    sampled_body: e.sampledBody ?? null,
  };
}

export type RequestLogWriter = BatchWriter<RequestLogEntry>;

/** The gateway's request log: `record(entry)` on the hot path, batches and spool behind it. */
export function createRequestLogWriter(opts: {
  db: Queryable;
  clock: Clock;
  logger: Logger;
  spoolDir: string;
  batchSize?: number;
  flushIntervalMs?: number;
  maxBuffer?: number;
  maxSpoolFileBytes?: number;
  writeTimeoutMs?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
}): RequestLogWriter {
  return createBatchWriter({
    ...opts,
    sink: { name: "request_log", toRow: requestLogRow, insert: jsonBatchInsert("request_log", COLUMNS) },
  });
}
