import type { TracingSettings } from "./settings.ts";
import type { GatewayTracing } from "./tracing.ts";

export { clientTrace } from "./client-trace.ts";
export { type TracingConfig, type TracingSettings, tracingSettings } from "./settings.ts";
export type { AnswerFacts, AttemptSpan, GatewayTracing, GenAiOperation, RequestSpan } from "./tracing.ts";

/**
 * The gateway's tracer, or undefined when tracing is off. The OpenTelemetry SDK is imported
 * here, dynamically, and only when there are settings: off, not one of its modules is loaded.
 */
export async function createTracing(s: TracingSettings | undefined): Promise<GatewayTracing | undefined> {
  if (!s) return undefined;
  const { createOtelTracing } = await import("./otel.ts");
  return createOtelTracing(s);
}
