import type { IncomingHttpHeaders } from "node:http";
import {
  type Attributes,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import { ANTHROPIC_DEFAULT_ENDPOINT } from "../../../providers/anthropic/request.ts";
import { OPENAI_DEFAULT_ENDPOINT } from "../../../providers/openai-compatible/request.ts";
import type { ChatRequest, TraceHeaders, UpstreamTarget } from "../../../providers/types.ts";
import type { TracingSettings } from "./settings.ts";
import type { AnswerFacts, AttemptSpan, GatewayTracing, GenAiOperation, RequestSpan } from "./tracing.ts";

/*
 * The OpenTelemetry side of tracing, loaded by index.ts only when an endpoint is configured.
 * No global is registered (no global tracer provider, propagator or context manager): spans
 * are parented explicitly, so nothing else in the process is traced by accident.
 */

/** The GenAI conventions' provider names; an OpenAI-compatible server speaks OpenAI's API. */
const PROVIDER_NAME: Record<UpstreamTarget["provider"], string> = {
  openai: "openai",
  "openai-compatible": "openai",
  anthropic: "anthropic",
  simulator: "modelgov.simulator",
};

export function createOtelTracing(s: TracingSettings): GatewayTracing {
  const exporter = new OTLPTraceExporter({
    url: s.url,
    headers: s.headers,
    // CompressionAlgorithm.NONE: the enum lives in a package we do not depend on directly.
    compression: "none" as never,
    timeoutMillis: 10_000,
  });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      "service.name": s.serviceName,
      "service.version": s.serviceVersion,
    }),
    sampler: samplerOf(s.sampler, s.samplerArg),
    // Given, not left to the SDK's own reading of OTEL_SPAN_* / OTEL_BSP_* (config.ts reads the environment).
    spanLimits: {
      attributeCountLimit: 128,
      attributeValueLengthLimit: 4096,
      eventCountLimit: 16,
      linkCountLimit: 0,
    },
    spanProcessors: [
      new BatchSpanProcessor(exporter, {
        scheduledDelayMillis: 5000,
        maxExportBatchSize: 512,
        maxQueueSize: 2048,
        exportTimeoutMillis: 30_000,
      }),
    ],
  });
  const tracer = provider.getTracer("modelgov", s.serviceVersion);
  const propagator = new W3CTraceContextPropagator();

  function startRequest(
    headers: IncomingHttpHeaders,
    requestId: string,
    operation: GenAiOperation = "chat",
  ): RequestSpan {
    const parent = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    const span = tracer.startSpan(
      operation,
      {
        kind: SpanKind.SERVER,
        attributes: { "gen_ai.operation.name": operation, "modelgov.request_id": requestId },
      },
      parent,
    );
    const inside = trace.setSpan(ROOT_CONTEXT, span);
    let errorClass: string | null = null;
    return {
      request(chat) {
        span.updateName(`${operation} ${chat.model}`);
        span.setAttributes({ "gen_ai.request.model": chat.model, ...samplingOf(chat, undefined) });
      },
      attempt(target, n, chat) {
        const a = tracer.startSpan(
          `${operation} ${target.providerModelId}`,
          { kind: SpanKind.CLIENT, attributes: attemptAttributes(operation, target, n, chat, requestId) },
          inside,
        );
        const carrier: Partial<TraceHeaders> = {};
        propagator.inject(trace.setSpan(ROOT_CONTEXT, a), carrier, defaultTextMapSetter);
        return attemptSpan(a, carrier as TraceHeaders);
      },
      answered(f) {
        if (f.version)
          span.setAttributes({ "gen_ai.response.model": f.version, "modelgov.version": f.version });
        if (f.route) span.setAttribute("modelgov.route", f.route);
        if (f.usage)
          span.setAttributes({
            "gen_ai.usage.input_tokens": f.usage.inputTokens,
            "gen_ai.usage.output_tokens": f.usage.outputTokens,
          });
        if (f.errorClass) {
          errorClass = f.errorClass;
          span.setAttribute("error.type", f.errorClass);
        }
      },
      end(status) {
        span.setAttribute("http.response.status_code", status);
        if (status >= 400 || errorClass) {
          if (!errorClass) span.setAttribute("error.type", String(status));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      },
    };
  }

  return {
    startRequest,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

function attemptSpan(span: Span, headers: TraceHeaders): AttemptSpan {
  return {
    headers,
    ok(f: AnswerFacts) {
      const a: Attributes = {};
      if (f.id) a["gen_ai.response.id"] = f.id;
      if (f.model) a["gen_ai.response.model"] = f.model;
      if (f.finishReasons?.length) a["gen_ai.response.finish_reasons"] = f.finishReasons;
      if (f.usage) {
        a["gen_ai.usage.input_tokens"] = f.usage.inputTokens;
        a["gen_ai.usage.output_tokens"] = f.usage.outputTokens;
      }
      span.setAttributes(a);
      span.end();
    },
    fail(err: unknown) {
      span.setAttribute("error.type", errorType(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
      span.end();
    },
  };
}

/** Low-cardinality, as error.type must be: an upstream's HTTP status, else the failure's kind. */
function errorType(err: unknown): string {
  const e = err as { kind?: unknown; status?: unknown; name?: unknown } | undefined;
  if (e?.kind === "http" && typeof e.status === "number") return String(e.status);
  if (typeof e?.kind === "string") return e.kind;
  return typeof e?.name === "string" ? e.name : "_OTHER";
}

function attemptAttributes(
  operation: GenAiOperation,
  target: UpstreamTarget,
  n: number,
  chat: ChatRequest,
  requestId: string,
) {
  const a: Attributes = {
    "gen_ai.operation.name": operation,
    "gen_ai.provider.name": PROVIDER_NAME[target.provider],
    // The attribute gen_ai.provider.name replaced; backends built on the older conventions read it.
    "gen_ai.system": PROVIDER_NAME[target.provider],
    "gen_ai.request.model": target.providerModelId,
    ...samplingOf(chat, target.parameters),
    ...serverOf(target),
    "modelgov.version": target.label,
    "modelgov.version_id": target.versionId,
    "modelgov.provider": target.provider,
    "modelgov.attempt": n,
    "modelgov.request_id": requestId,
  };
  return a;
}

/** The sampling parameters in force: the request's, else the version's defaults. */
function samplingOf(chat: ChatRequest, defaults: Record<string, unknown> | undefined): Attributes {
  const a: Attributes = {};
  const pick = (k: string) => {
    const v = chat[k] ?? defaults?.[k];
    return typeof v === "number" ? v : undefined;
  };
  const maxTokens = pick("max_tokens") ?? pick("max_completion_tokens");
  if (maxTokens !== undefined) a["gen_ai.request.max_tokens"] = maxTokens;
  const temperature = pick("temperature");
  if (temperature !== undefined) a["gen_ai.request.temperature"] = temperature;
  const topP = pick("top_p");
  if (topP !== undefined) a["gen_ai.request.top_p"] = topP;
  return a;
}

/** server.address and server.port of a target, parsed once per target (they are cached per version). */
const servers = new WeakMap<UpstreamTarget, Attributes>();
function serverOf(target: UpstreamTarget): Attributes {
  let a = servers.get(target);
  if (a) return a;
  a = {};
  const base =
    target.endpoint ??
    (target.provider === "anthropic"
      ? ANTHROPIC_DEFAULT_ENDPOINT
      : target.provider === "simulator"
        ? null
        : OPENAI_DEFAULT_ENDPOINT);
  if (base)
    try {
      const u = new URL(base);
      a["server.address"] = u.hostname.replace(/^\[|\]$/g, "");
      a["server.port"] = Number(u.port || (u.protocol === "https:" ? 443 : 80));
    } catch {}
  servers.set(target, a);
  return a;
}

function samplerOf(name: TracingSettings["sampler"], arg: number): Sampler {
  const root = name.endsWith("always_off")
    ? new AlwaysOffSampler()
    : name.endsWith("traceidratio")
      ? new TraceIdRatioBasedSampler(arg)
      : new AlwaysOnSampler();
  return name.startsWith("parentbased_") ? new ParentBasedSampler({ root }) : root;
}
