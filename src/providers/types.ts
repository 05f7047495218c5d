import type { SignalLike } from "../lib/light-abort.ts";

/**
 * The contract between the gateway and the model providers. The canonical request and
 * response are OpenAI Chat Completions shapes (the lingua franca of LLM APIs); the
 * Anthropic Messages endpoint and the anthropic adapter translate to and from them.
 * Payloads are kept as plain JSON records: unknown fields (tools, response_format,
 * vendor extensions) pass through untouched.
 */

export type Json = Record<string, unknown>;

/** An OpenAI Chat Completions request body (`model` is the provider model id by the time an adapter sees it). */
export interface ChatRequest extends Json {
  model: string;
  messages: Json[];
  stream?: boolean;
}

/** An OpenAI `chat.completion` object. */
export interface ChatResponse extends Json {
  id: string;
  object: "chat.completion";
  model: string;
  choices: Json[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens?: number } & Json;
}

/** An OpenAI `chat.completion.chunk` object (one SSE `data:` event). */
export interface ChatChunk extends Json {
  id: string;
  object: "chat.completion.chunk";
  model: string;
  choices: Json[];
  usage?: { prompt_tokens: number; completion_tokens: number } & Json;
}

/** Where and how one registered version is called. */
export interface UpstreamTarget {
  versionId: string;
  /** `model@version`, for logs and errors. */
  label: string;
  provider: "openai" | "openai-compatible" | "anthropic" | "simulator";
  providerModelId: string;
  /** Base URL (e.g. https://api.openai.com/v1); null means the provider's default. */
  endpoint: string | null;
  apiKey?: string;
  /** The version's registered parameters (sampling defaults, simulator settings, timeouts). */
  parameters: Json;
  timeouts: { totalMs: number; firstByteMs: number; idleMs: number };
}

export interface CallContext {
  signal: SignalLike;
  requestId: string;
  subject?: string;
  /** Group attributes (e.g. { age_band: "65+", language: "de" }), used by the simulator's per-group quality. */
  groups?: Record<string, string>;
  /**
   * The answer a correct model gives, when the caller knows it (an evaluation case's
   * expectation). Only the simulator reads it: a successful simulated answer is this text.
   */
  reference?: string;
  /** The attempt on this version, 1-based: a retry is a new draw for the simulator, not a replay. */
  attempt?: number;
  /** W3C trace context sent upstream with the call (the attempt's span, or the client's as it came). */
  trace?: TraceHeaders;
}

/** The W3C Trace Context headers of a call: `traceparent`, and `tracestate` when there is one. */
export interface TraceHeaders {
  traceparent: string;
  tracestate?: string;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface CompletionResult {
  response: ChatResponse;
  usage: Usage;
  /** Milliseconds from sending the request to the upstream's complete answer. */
  upstreamMs: number;
}

export interface StreamResult {
  /** Chunks in order; the last one carries `usage` when the provider reports it. */
  chunks: AsyncIterable<ChatChunk>;
  /** Resolves once the stream ended, with the token counts seen. */
  done: Promise<Usage>;
}

export type UpstreamErrorKind = "timeout" | "connect" | "http" | "protocol" | "refused" | "aborted";

/** What an adapter throws: the resilience layer retries, trips breakers and falls back on it. */
export class UpstreamError extends Error {
  readonly kind: UpstreamErrorKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly body: unknown;
  constructor(
    kind: UpstreamErrorKind,
    message: string,
    opts: { status?: number; retryAfterMs?: number; body?: unknown } = {},
  ) {
    super(message);
    this.name = "UpstreamError";
    this.kind = kind;
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
    this.body = opts.body;
  }
  /** 429, 5xx, timeouts and connection failures are worth another try; other 4xx are not. */
  get retryable(): boolean {
    if (this.kind === "timeout" || this.kind === "connect") return true;
    return this.kind === "http" && this.status !== undefined && (this.status === 429 || this.status >= 500);
  }
}

/**
 * An OpenAI embeddings request, as the gateway validated it: `input` always a list (a string
 * or a token array per item), `model` the provider model id by the time an adapter sees it.
 */
export interface EmbeddingRequest {
  input: Array<string | number[]>;
  dimensions?: number;
  /** What the caller asked for; adapters answer floats either way (the gateway encodes). */
  encoding_format?: "float" | "base64";
  user?: string;
}

export interface EmbeddingResult {
  /** One vector per input item, in input order. */
  vectors: number[][];
  /** Input tokens only: an embedding has no output tokens. */
  usage: Usage;
  upstreamMs: number;
}

export interface ProviderAdapter {
  readonly kind: UpstreamTarget["provider"];
  complete(req: ChatRequest, target: UpstreamTarget, ctx: CallContext): Promise<CompletionResult>;
  stream(req: ChatRequest, target: UpstreamTarget, ctx: CallContext): Promise<StreamResult>;
  /** The request's input tokens as the provider itself counts them, where it has an endpoint for it. */
  countTokens?(req: ChatRequest, target: UpstreamTarget, ctx: CallContext): Promise<number>;
  /** Embeddings (`POST /v1/embeddings`); absent for a provider that has none (Anthropic). */
  embed?(req: EmbeddingRequest, target: UpstreamTarget, ctx: CallContext): Promise<EmbeddingResult>;
}
