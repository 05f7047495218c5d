import type { IncomingHttpHeaders } from "node:http";
import type { TraceHeaders } from "../../../providers/types.ts";

/** version-traceid-parentid-flags, lowercase hex; the all-zero ids are invalid (W3C Trace Context). */
const TRACEPARENT = /^[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}(-.*)?$/;

/**
 * The client's trace context, to forward upstream unchanged while tracing is off: the gateway
 * is then no participant of the trace, and the upstream's spans join the caller's. A
 * malformed `traceparent` is dropped (a version ff or a bad id would only confuse the upstream).
 */
export function clientTrace(headers: IncomingHttpHeaders): TraceHeaders | undefined {
  const traceparent = headers.traceparent;
  if (typeof traceparent !== "string" || !TRACEPARENT.test(traceparent) || traceparent.startsWith("ff"))
    return undefined;
  const tracestate = headers.tracestate;
  return typeof tracestate === "string" && tracestate ? { traceparent, tracestate } : { traceparent };
}
