import type { IncomingHttpHeaders } from "node:http";
import type { ChatRequest, TraceHeaders, UpstreamTarget, Usage } from "../../../providers/types.ts";

/*
 * What the gateway asks of tracing, with no OpenTelemetry import: the SDK is loaded (otel.ts)
 * only when an OTLP endpoint is configured. Off, the gateway holds no tracer at all and its
 * hot path checks one field; a client's traceparent is still forwarded upstream as it came.
 */

/** The GenAI conventions' `gen_ai.operation.name` of a gateway call: the span names start with it. */
export type GenAiOperation = "chat" | "text_completion" | "embeddings";

/** The gateway's tracer: one server span per model call, one client span per upstream attempt. */
export interface GatewayTracing {
  /** A model call's server span (chat unless said), a child of the client's `traceparent` when it sent one. */
  startRequest(headers: IncomingHttpHeaders, requestId: string, operation?: GenAiOperation): RequestSpan;
  /** Exports the spans ended so far (tests; the exporter batches). */
  flush(): Promise<void>;
  /** Exports what is left and stops: after the server stopped taking requests. */
  shutdown(): Promise<void>;
}

/** The facts of an answer an upstream gave, as the GenAI conventions name them. */
export interface AnswerFacts {
  id?: string;
  /** The model the upstream says answered. */
  model?: string;
  finishReasons?: string[];
  usage?: Usage;
}

export interface RequestSpan {
  /** The request read: names the span `{operation} {model}` and records the sampling parameters asked for. */
  request(chat: ChatRequest): void;
  /** An upstream attempt's client span (its traceparent goes upstream); attempts run one at a time. */
  attempt(target: UpstreamTarget, n: number, chat: ChatRequest): AttemptSpan;
  /** The answer the gateway gave: the version that served it, why, its tokens, the failure's class. */
  answered(facts: { version?: string; route?: string; usage?: Usage; errorClass: string | null }): void;
  /** Ends the span with the HTTP status of the answer. */
  end(status: number): void;
}

export interface AttemptSpan {
  /** The W3C trace context to send upstream: this span as the parent. */
  readonly headers: TraceHeaders;
  ok(facts: AnswerFacts): void;
  fail(err: unknown): void;
}
