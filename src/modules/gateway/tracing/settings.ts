import type { Config } from "../../../config.ts";

/** What tracing needs, derived from the configuration (the OTEL_* variables, parsed in config.ts). */
export interface TracingSettings {
  /** The OTLP/HTTP traces URL. */
  url: string;
  headers: Record<string, string>;
  serviceName: string;
  serviceVersion: string;
  sampler: Config["otelTracesSampler"];
  samplerArg: number;
}

export type TracingConfig = Pick<
  Config,
  | "otelEndpoint"
  | "otelTracesEndpoint"
  | "otelHeaders"
  | "otelServiceName"
  | "otelTracesSampler"
  | "otelTracesSamplerArg"
  | "otelSdkDisabled"
>;

/**
 * The settings, or undefined when tracing is off: OTEL_SDK_DISABLED=true, or no endpoint. As
 * the OTLP specification says, the traces endpoint is used as it is, and the general one gets
 * `/v1/traces` appended.
 */
export function tracingSettings(c: TracingConfig, serviceVersion: string): TracingSettings | undefined {
  if (c.otelSdkDisabled) return undefined;
  const url =
    c.otelTracesEndpoint ?? (c.otelEndpoint ? `${c.otelEndpoint.replace(/\/+$/, "")}/v1/traces` : undefined);
  if (!url) return undefined;
  return {
    url,
    headers: c.otelHeaders,
    serviceName: c.otelServiceName,
    serviceVersion,
    sampler: c.otelTracesSampler,
    samplerArg: c.otelTracesSamplerArg,
  };
}
