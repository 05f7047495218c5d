import type { ServerResponse } from "node:http";
import type { GatewayError } from "./gateway-error.ts";

/**
 * The API a request came in on: Chat Completions (`openai`), Messages (`anthropic`), and
 * OpenAI's Responses and legacy Completions; errors take the OpenAI shape but on Messages.
 */
export type Dialect = "openai" | "anthropic" | "responses" | "completions";

const ERROR_TYPE: Record<number, { openai: string; anthropic: string }> = {
  400: { openai: "invalid_request_error", anthropic: "invalid_request_error" },
  401: { openai: "authentication_error", anthropic: "authentication_error" },
  403: { openai: "permission_denied", anthropic: "permission_error" },
  404: { openai: "not_found_error", anthropic: "not_found_error" },
  408: { openai: "timeout_error", anthropic: "timeout_error" },
  413: { openai: "invalid_request_error", anthropic: "request_too_large" },
  429: { openai: "rate_limit_exceeded", anthropic: "rate_limit_error" },
  502: { openai: "upstream_error", anthropic: "api_error" },
  503: { openai: "service_unavailable", anthropic: "overloaded_error" },
  504: { openai: "timeout_error", anthropic: "api_error" },
};

/**
 * An error answer: application/problem+json (the field and the reason, like the rest of
 * modelgov) that also carries the `error` object (OpenAI) or `type: "error"` (Anthropic)
 * shape, so the official SDKs raise their usual exceptions with our message.
 */
export function sendError(
  res: ServerResponse,
  dialect: Dialect,
  err: GatewayError,
  at: { requestId?: string; headers?: Record<string, string> } = {},
) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, message: detail, code } = err;
  const shape = dialect === "anthropic" ? "anthropic" : "openai";
  const type = ERROR_TYPE[status]?.[shape] ?? "api_error";
  const body: Record<string, unknown> = {
    type: dialect === "anthropic" ? "error" : `https://modelgov.dev/problems/${code.replace(/_/g, "-")}`,
    title: detail,
    status,
    detail,
    code,
    errors: [{ field: err.field, reason: detail }],
    // `param` is OpenAI's name for the field at fault (the SDKs read it into `error.param`).
    error: { type, message: detail, code, ...paramOf(err.field) },
    ...(at.requestId ? { requestId: at.requestId, request_id: at.requestId } : {}),
    ...err.extra,
  };
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/problem+json",
    "content-length": Buffer.byteLength(text),
    ...at.headers,
    ...err.headers,
  });
  res.end(text);
}

/** `body.input.0.role` → `input.0.role`; no param for what is not in the body (a header). */
function paramOf(field: string): { param?: string } {
  return field.startsWith("body.") ? { param: field.slice(5) } : {};
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string>,
) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function startSse(res: ServerResponse, headers: Record<string, string>) {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
    ...headers,
  });
  res.flushHeaders();
}

/** One SSE event; `event` names it (Anthropic), otherwise a bare `data:` line (OpenAI). */
export function writeSse(res: ServerResponse, data: unknown, event?: string) {
  res.write(
    `${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`,
  );
}
