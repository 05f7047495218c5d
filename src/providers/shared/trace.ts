import type { TraceHeaders } from "../types.ts";

/** An upstream request's headers with the call's W3C trace context added. */
export function withTrace(headers: Record<string, string>, trace: TraceHeaders): Record<string, string> {
  headers.traceparent = trace.traceparent;
  if (trace.tracestate) headers.tracestate = trace.tracestate;
  return headers;
}
