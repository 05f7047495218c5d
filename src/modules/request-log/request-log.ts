import { createHash } from "node:crypto";
import { batchInsert } from "../../lib/batch-sink.ts";
import { type BatchWriter, type BatchWriterOptions, createBatchWriter } from "../../lib/batch-writer.ts";
import { storableJson } from "../../lib/text-guard.ts";
import type { FallbackStep } from "../gateway/index.ts";

/**
 * What the gateway hands to `record()` once it has answered a request. The writer owns
 * the object from then on: do not mutate it afterwards.
 */
export interface RequestLogEntry {
  /** The gateway request id (`req_…`): the primary key, so a replayed batch adds nothing. */
  id: string;
  /** When the request arrived. */
  at: Date | string;
  /** Null only for a request refused before a token was recognised. */
  tokenId: string | null;
  /** The token's name. */
  client: string | null;
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
  /**
   * Every version tried, primary first, as the resilience layer walked them (stored as given,
   * JSONB): its `versionId` is the version the route chose, which rollout and experiment
   * windows count a request against even when a fallback served it.
   */
  fallbackPath: readonly FallbackStep[];
  /**
   * The caller's subject (end user, session). Never stored: its SHA-256 is computed at flush
   * time, off the hot path. A caller that hashed already passes `subjectHash` instead.
   */
  subject?: string | null;
  subjectHash?: string | null;
  /** Privacy: hashes only; bodies only for sampled requests. */
  groups?: Record<string, string> | null;
  promptHash?: string | null;
  responseHash?: string | null;
  sampledBody?: unknown;
  /** Shadow mode: the request this mirrored call copied (its answer went nowhere). */
  shadowOf?: string | null;
  /** Shadow mode: whether the mirrored answer agreed with the one served. */
  agreement?: boolean | null;
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
  ["shadow_of", "text"],
  ["agreement", "boolean"],
] as const;

const sha256 = (s: string) => `sha256:${createHash("sha256").update(s).digest("hex")}`;

/**
 * The spool line and the insert row: the table's column names. A record of what happened:
 * a NUL or lone surrogate a client or upstream sent (in the model name, an upstream's error
 * text, a sampled body) is kept as U+FFFD rather than failing the row, which the store would
 * refuse, and losing an answered request.
 */
export function requestLogRow(e: RequestLogEntry): Record<string, unknown> {
  return storableJson({
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
    subject_hash: e.subjectHash ?? (e.subject ? sha256(e.subject) : null),
    groups: e.groups ?? null,
    prompt_hash: e.promptHash ?? null,
    response_hash: e.responseHash ?? null,
    sampled_body: e.sampledBody ?? null,
    shadow_of: e.shadowOf ?? null,
    agreement: e.agreement ?? null,
  });
}

export type { FallbackStep };

export type RequestLogWriter = BatchWriter<RequestLogEntry>;

/** The gateway's request log: `record(entry)` on the hot path, batches and spool behind it. */
export function createRequestLogWriter(
  opts: Omit<BatchWriterOptions<RequestLogEntry>, "sink">,
): RequestLogWriter {
  return createBatchWriter({
    ...opts,
    sink: { name: "request_log", toRow: requestLogRow, insert: batchInsert("request_log", COLUMNS) },
  });
}
