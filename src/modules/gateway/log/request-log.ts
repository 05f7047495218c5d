import { createHash } from "node:crypto";
import type { Clock } from "../../../lib/clock.ts";
import type { Logger } from "../../../lib/logger.ts";
import { canCopy, type Queryable } from "../../../store/db.ts";
import { type BatchWriter, createBatchWriter, jsonBatchInsert } from "./batch-writer.ts";
import type { SpoolRow } from "./spool.ts";

/**
 * One attempt in the order the gateway tried versions (primary first, then fallbacks).
 * Stored as given (JSONB): the resilience layer's steps, with their attempts and
 * durations, fit as they are.
 */
export interface FallbackStep {
  /** The version tried, e.g. `1.2.0`. */
  version: string;
  /** `served`, `failed` (the next was tried), `skipped` (breaker open, refused). */
  outcome: string;
  /** Why: `timeout`, `http 503`, `breaker_open`, ... */
  reason?: string;
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
    subject_hash: e.subjectHash ?? (e.subject ? sha256(e.subject) : null),
    groups: e.groups ?? null,
    prompt_hash: e.promptHash ?? null,
    response_hash: e.responseHash ?? null,
    sampled_body: e.sampledBody ?? null,
    shadow_of: e.shadowOf ?? null,
    agreement: e.agreement ?? null,
  };
}

/** One CSV field: NULL is an empty unquoted field, every string is quoted (so "" is the empty string). */
function csvField(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  if (typeof v === "boolean") return v ? "t" : "f";
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return `"${s.includes('"') ? s.replaceAll('"', '""') : s}"`;
}

/** The rows as CSV in COLUMNS order, for `COPY … FROM` (the embedded store's bulk path). */
export function requestLogCsv(rows: readonly SpoolRow[]): string {
  let out = "";
  for (const r of rows) {
    let line = "";
    for (let i = 0; i < COLUMNS.length; i++) {
      if (i) line += ",";
      line += csvField(r[COLUMNS[i]![0]]);
    }
    out += `${line}\n`;
  }
  return out;
}

const jsonInsert = jsonBatchInsert("request_log", COLUMNS);
const COPY_SQL = `COPY request_log (${COLUMNS.map(([n]) => n).join(", ")}) FROM '/dev/blob' WITH (FORMAT csv)`;

/**
 * A fresh batch on a store that can bulk-load goes in by COPY (on the embedded store a
 * fifth of the INSERT's cost per row, and the request log is the gateway's costliest write);
 * replays, retries and other stores use the idempotent INSERT … ON CONFLICT DO NOTHING. A
 * fresh batch cannot hold an id already stored (ids are unique per process and a batch is
 * taken from the buffer once); if one ever did, the unique violation is a data error and the
 * writer retries row by row, through the idempotent path.
 */
async function insertRequestLog(q: Queryable, rows: SpoolRow[], fresh?: boolean) {
  if (fresh && canCopy(q)) await q.copyFrom(COPY_SQL, requestLogCsv(rows));
  else await jsonInsert(q, rows);
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
    sink: { name: "request_log", toRow: requestLogRow, insert: insertRequestLog },
  });
}
