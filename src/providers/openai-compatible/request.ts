import { withVersionDefaults } from "../shared/parameters.ts";
import { withTrace } from "../shared/trace.ts";
import type { ChatRequest, Json, TraceHeaders, UpstreamTarget } from "../types.ts";

export const OPENAI_DEFAULT_ENDPOINT = "https://api.openai.com/v1";

export function chatCompletionsUrl(target: UpstreamTarget): string {
  return `${(target.endpoint ?? OPENAI_DEFAULT_ENDPOINT).replace(/\/+$/, "")}/chat/completions`;
}

export function openAIHeaders(
  target: UpstreamTarget,
  stream: boolean,
  trace?: TraceHeaders,
): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: stream ? "text/event-stream" : "application/json",
  };
  if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
  return trace ? withTrace(headers, trace) : headers;
}

/**
 * The body sent upstream: the canonical request over the version's parameters, with the
 * provider's model id. Streams always ask for the usage chunk, which the gateway meters.
 */
export function openAIBody(req: ChatRequest, target: UpstreamTarget, stream: boolean): Json {
  const body: Json = withVersionDefaults(req, target.parameters);
  body.model = target.providerModelId;
  if (stream) {
    body.stream = true;
    body.stream_options = { ...(req.stream_options as Json | undefined), include_usage: true };
  } else {
    delete body.stream;
    delete body.stream_options;
  }
  return body;
}
