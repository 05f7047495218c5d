import { createHash } from "node:crypto";
import { batchInsert } from "../../lib/batch-sink.ts";
import { type BatchWriter, type BatchWriterOptions, createBatchWriter } from "../../lib/batch-writer.ts";
import type { SpoolRow } from "../../lib/spool.ts";
import { storableJson } from "../../lib/text-guard.ts";
import type { Db, Queryable } from "../../store/db.ts";
import type { FallbackStep } from "../gateway/index.ts";
import { type FeaturesSource, resolveFeatures } from "./features.ts";
import {
  createPartitionCache,
  isMissingPartition,
  type LogTable,
  type PartitionCache,
} from "./partitions.ts";
import {
  applyDeltas,
  FEEDBACK_SKEW_MS,
  latestFeedback,
  minuteOf,
  ROLLUP_LOCK,
  RollupDeltas,
} from "./rollup.ts";
import { type RouteStrategy, routeKey } from "./route-key.ts";

const minuteOfRow = (r: SpoolRow) => minuteOf(r.at);

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
  /**
   * The version the route chose when it is not the first one tried: a router version, whose
   * tier's versions did the calling. Unset: the first version of `fallbackPath`.
   */
  routedVersionId?: string | null;
  endpoint: "chat.completions" | "messages" | "responses" | "completions" | "embeddings";
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
  /**
   * The route's split identity when a split chose the version (an experiment's id): the
   * writer counts each scope's distinct subjects per version, exactly, for the SRM check.
   */
  splitScope?: string | null;
  /**
   * What the gateway derived from the request and its answer (features.ts), never the text
   * itself; or a function that derives them, run at flush time, off the hot path. A function
   * that throws leaves the row without features rather than losing it.
   */
  features?: FeaturesSource | null;
  /** What a router version did: the tiers it called, in order, with each one's outcome and cost. */
  routePath?: readonly RouteMember[] | null;
  /**
   * The router's strategy (`route`, `cascade`, `ensemble`): with `routePath`, the writer derives
   * the request's path (route-key.ts) when it flushes the entry.
   */
  routeStrategy?: RouteStrategy | null;
}

/**
 * One tier a router called (or could not, or left out under its cost cap), as the log keeps
 * it; or, with `role`, one of the router's own calls: its LLM classifier, or a judge.
 */
export interface RouteMember {
  /** The tier's name; a router's own call: its role. */
  tier: string;
  /**
   * What the member was: absent, a tier; `classifier` or `judge`, a call the router made for
   * itself. Such a member is kept in the log (its tokens and cost count) but is not on the
   * request's path (route-key.ts); a role this code does not know is treated the same way.
   */
  role?: "classifier" | "judge";
  /** The version of the tier's model that answered, or was last tried. */
  versionId: string | null;
  version: string | null;
  outcome: "served" | "escalated" | "outvoted" | "failed" | "refused" | "skipped";
  /** Why it escalated, failed, was refused or skipped; a classifier's or judge's verdict; null when served. */
  reason: string | null;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  upstreamMs: number | null;
}

const COLUMNS = [
  ["id", "text"],
  ["at", "timestamptz"],
  ["token_id", "text"],
  ["client", "text"],
  ["model", "text"],
  ["version_id", "text"],
  ["version", "text"],
  ["routed_version_id", "text"],
  ["route_reason", "text"],
  ["split_scope", "text"],
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
  ["features", "jsonb"],
  ["route_path", "jsonb"],
  ["route_key", "text"],
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
    routed_version_id: e.routedVersionId ?? e.fallbackPath[0]?.versionId ?? e.versionId,
    route_reason: e.routeReason,
    split_scope: e.splitScope ?? null,
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
    features: resolveFeatures(e.features),
    route_path: e.routePath ?? null,
    route_key: routeKey(e.routeStrategy, e.routePath),
  });
}

export type { FallbackStep };

export type RequestLogWriter = BatchWriter<RequestLogEntry>;

/** A store the log writers can open transactions on (a batch and its roll-ups commit together). */
type Transactional = Queryable & Pick<Db, "transaction">;

export function transactional(q: Queryable): Transactional {
  if (typeof (q as Partial<Transactional>).transaction !== "function")
    throw new Error("the request log needs a store with transactions (its roll-ups commit with each batch)");
  return q as Transactional;
}

/**
 * Runs `write` once the days of `ats` have partitions; if one was dropped under us since
 * (a row older than the retention, replayed from the spool), forgets and tries once more.
 */
export async function withPartitions<T>(
  cache: PartitionCache,
  q: Queryable,
  table: LogTable,
  ats: unknown[],
  write: () => Promise<T>,
): Promise<T> {
  await cache.ensure(q, table, ats);
  try {
    return await write();
  } catch (err) {
    if (!isMissingPartition(err)) throw err;
    cache.forget();
    await cache.ensure(q, table, ats);
    return write();
  }
}

const insertRows = batchInsert("request_log", COLUMNS, { conflict: ["id", "at"] });

/**
 * One batch into request_log and its roll-ups, in one transaction: the rows (COPY when fresh
 * on the embedded store, else the idempotent INSERT), then what the rows actually inserted
 * add to the sums, with any feedback that arrived before them.
 */
export async function insertRequestBatch(
  q: Queryable,
  rows: SpoolRow[],
  fresh = false,
  cache: PartitionCache = createPartitionCache(),
): Promise<void> {
  const db = transactional(q);
  // Features are never stored NULL: NULL marks a row logged before the features migration,
  // whose sums the backfill job adds (feature-backfill.ts); this batch adds its own below.
  // `{}` reads as "no features" everywhere, as NULL does.
  const stored = rows.map((r) =>
    r.features === null || r.features === undefined ? { ...r, features: {} } : r,
  );
  await withPartitions(
    cache,
    db,
    "request_log",
    stored.map((r) => r.at),
    () =>
      db.transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock_shared($1)", [ROLLUP_LOCK]);
        const ids = await insertRows(tx, stored, fresh);
        const inserted = ids === "all" ? stored : stored.filter((r) => ids.has(r.id as string));
        if (!inserted.length) return;
        const d = new RollupDeltas();
        for (const r of inserted) d.addRequest(r);
        const served = inserted.filter((r) => r.shadow_of === null || r.shadow_of === undefined);
        if (served.length) {
          const earliest = Math.min(...served.map((r) => new Date(r.at as string).getTime()));
          const feedback = await latestFeedback(
            tx,
            served.map((r) => r.id as string),
            new Date(earliest - FEEDBACK_SKEW_MS),
          );
          for (const r of served) {
            const f = feedback.get(r.id as string);
            if (f)
              d.addFeedback(
                {
                  id: r.id as string,
                  model: String(r.model),
                  minute: minuteOfRow(r),
                  versionId: (r.routed_version_id as string | null) ?? "",
                  groups: (r.groups as Record<string, string> | null) ?? null,
                  path: (r.route_key as string | null | undefined) ?? null,
                },
                f,
                1,
              );
          }
        }
        await applyDeltas(tx, d);
      }),
  );
}

/** The gateway's request log: `record(entry)` on the hot path, batches and spool behind it. */
export function createRequestLogWriter(
  opts: Omit<BatchWriterOptions<RequestLogEntry>, "sink">,
): RequestLogWriter {
  const cache = createPartitionCache();
  return createBatchWriter({
    ...opts,
    sink: {
      name: "request_log",
      toRow: requestLogRow,
      insert: (q, rows, fresh) => insertRequestBatch(q, rows, fresh, cache),
    },
  });
}
