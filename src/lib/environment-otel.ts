import type { EnvVariable } from "./environment.ts";

/**
 * The standard OpenTelemetry variables the server reads (docs/tracing.md), listed with the rest
 * in environment.ts's ENVIRONMENT, in this order.
 */
export const OTEL_ENVIRONMENT = [
  {
    name: "OTEL_EXPORTER_OTLP_ENDPOINT",
    key: "otelEndpoint",
    type: "http(s) URL",
    defaultText: "unset: no spans are made or exported",
    description:
      "OpenTelemetry: OTLP/HTTP base URL; traces go to <url>/v1/traces (setting it turns tracing on)",
    details:
      "The gateway then makes a span per chat request and per upstream attempt (GenAI semantic conventions) and exports them as OTLP/HTTP JSON. Unset (and `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` unset): no OpenTelemetry code is loaded; a client's `traceparent` still reaches the upstream as it came. See docs/tracing.md.",
    example: "http://otel-collector:4318",
    scope: ["server"],
  },
  {
    name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    key: "otelTracesEndpoint",
    type: "http(s) URL",
    defaultText: "`OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`",
    description: "OpenTelemetry: the full OTLP/HTTP traces URL, used as it is (setting it turns tracing on)",
    example: "http://otel-collector:4318/v1/traces",
    scope: ["server"],
  },
  {
    name: "OTEL_EXPORTER_OTLP_HEADERS",
    key: "otelHeaders",
    type: "key=value pairs, comma-separated (values URL-encoded)",
    defaultText: "none",
    description: "OpenTelemetry: headers sent with every export (an API key of a tracing backend)",
    example: "authorization=Bearer%20abc123,x-tenant=ops",
    scope: ["server"],
  },
  {
    name: "OTEL_SERVICE_NAME",
    key: "otelServiceName",
    type: "string",
    default: "modelgov",
    description: "OpenTelemetry: the service.name of the exported spans",
    example: "modelgov-gateway",
    scope: ["server"],
  },
  {
    name: "OTEL_TRACES_SAMPLER",
    key: "otelTracesSampler",
    type: "sampler name",
    default: "parentbased_always_on",
    description:
      "OpenTelemetry: which requests are traced: always_on, always_off, traceidratio, or parentbased_ (the client's sampled flag decides) of those",
    example: "parentbased_traceidratio",
    scope: ["server"],
  },
  {
    name: "OTEL_TRACES_SAMPLER_ARG",
    key: "otelTracesSamplerArg",
    type: "number between 0 and 1",
    default: 1,
    description: "OpenTelemetry: the share of traces kept by the traceidratio samplers",
    example: "0.1",
    scope: ["server"],
  },
  {
    name: "OTEL_SDK_DISABLED",
    key: "otelSdkDisabled",
    type: "true or false",
    default: false,
    description: "OpenTelemetry: true turns tracing off whatever the endpoint variables say",
    example: "true",
    scope: ["server"],
  },
] as const satisfies readonly EnvVariable[];
