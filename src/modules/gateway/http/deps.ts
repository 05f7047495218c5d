import type { IncomingMessage } from "node:http";
import type { BodyPolicy } from "../../../config.ts";
import type { Resolution as FlagResolution } from "../../../engines/flags/index.ts";
import type { SignalLike } from "../../../lib/light-abort.ts";
import type {
  ChatChunk,
  ChatRequest,
  ChatResponse,
  Json,
  ProviderAdapter,
} from "../../../providers/types.ts";
import type { RequestLogEntry } from "../log/index.ts";
import type { ObservedTokenCount } from "../metrics.ts";
import type { FallbackStep } from "../resilience/fallback.ts";
import type { RoutableVersion, RoutingSnapshot } from "../routing/snapshot.ts";
import type { GatewayTracing } from "../tracing/index.ts";

export interface Principal {
  tokenId: string;
  name: string;
  roles: string[];
}

export interface ExecuteOutcome<R> {
  result: R;
  servedBy: RoutableVersion;
  path: FallbackStep[];
}

/** One gateway call as the request log records it (the log module owns the shape). */
export type GatewayLogEntry = Omit<RequestLogEntry, "at"> & { at: string };

/** What the log keeps of bodies: parsed from MODELGOV_GATEWAY_BODIES by the config. */
export type { BodyPolicy };

/** Everything the gateway handler uses, injected: each piece is tested on its own. */
export interface GatewayDeps {
  routing: { current(): RoutingSnapshot; onChange(l: (s: RoutingSnapshot) => void): void };
  authenticate(token: string): Promise<Principal | null>;
  adapters: Record<string, ProviderAdapter>;
  /** Walks the chain with retries, breakers and fallback; throws a FallbackError (its `path`) when all fail. */
  execute<R>(
    chain: RoutableVersion[],
    /** `n`: the attempt on this version, 1-based (retries count up). */
    attempt: (v: RoutableVersion, signal: SignalLike, n: number) => Promise<R>,
    opts: { deadlineMs: number; signal: SignalLike },
  ): Promise<ExecuteOutcome<R>>;
  translate: {
    fromAnthropicRequest(body: Json): ChatRequest;
    /** `requestId`: the gateway's, which the answer's message id carries (anthropic/ids.ts). */
    toAnthropicResponse(resp: ChatResponse, model: string, requestId: string): Json;
    toAnthropicStream(
      chunks: AsyncIterable<ChatChunk>,
      model: string,
      requestId: string,
    ): AsyncIterable<{ event: string; data: Json }>;
  };
  /** Reads the body within the size and time limits; throws a RequestLimitError (413, 408, 400). */
  readBody(req: IncomingMessage): Promise<Buffer>;
  /**
   * The token's bucket: `limit` is its burst, refilled at `ratePerSec` (MODELGOV_GATEWAY_RATE_*);
   * `remaining` and `resetMs` (until full), when given, become the x-ratelimit-* headers.
   */
  rateLimit(key: string): {
    ok: boolean;
    retryAfterSec: number;
    limit: number;
    ratePerSec: number;
    remaining?: number;
    resetMs?: number;
  };
  log(entry: GatewayLogEntry): void;
  /** The time a request-log row is stamped with (the runtime's clock); unset: the system's. */
  now?(): Date;
  /** The answer to POST /v1/feedback; `headers` carries its content type (problem+json for a refusal). */
  feedback(
    principal: Principal,
    body: unknown,
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string> }>;
  /** A logged call, for the metrics; `firstTokenMs`: a stream's time to its first chunk. */
  observe?(entry: GatewayLogEntry, firstTokenMs?: number): void;
  /** A request refused with an error and no log entry (modelgov_gateway_refusals_total). */
  observeRefusal?(status: number, code: string): void;
  /** A request a kill switch diverted past a version (`diverted`) or refused (`refused`). */
  observeKill?(scope: "version" | "provider", outcome: "diverted" | "refused"): void;
  /** A token count answered or failed (modelgov_gateway_token_counts_total). */
  observeTokenCount?(c: ObservedTokenCount): void;
  /** A route's flag evaluated for a request (modelgov_flag_evaluations_total); `known`: the flag is defined. */
  observeFlag?(r: FlagResolution, known: boolean): void;
  apiKeyFor(v: RoutableVersion): string | undefined;
  bodies: BodyPolicy;
  /** OpenTelemetry spans (docs/tracing.md); unset, tracing is off and costs one check per request. */
  tracing?: GatewayTracing;
}
