import type http from "node:http";

/**
 * Limits on what clients may send to the gateway: body size (413), body and header
 * slowness (408) and request rate (429). Written for a raw node:http handler; the
 * `limitErrorResponse` shape lets any other HTTP layer render the same answers.
 */

export type LimitCode = "body_too_large" | "body_timeout" | "client_aborted" | "rate_limited";

const STATUS: Record<LimitCode, 400 | 408 | 413 | 429> = {
  body_too_large: 413,
  body_timeout: 408,
  client_aborted: 400,
  rate_limited: 429,
};

export class RequestLimitError extends Error {
  readonly code: LimitCode;
  readonly status: 400 | 408 | 413 | 429;
  /** For 429: whole seconds, sent as Retry-After. */
  readonly retryAfterSec: number | undefined;
  constructor(code: LimitCode, message: string, retryAfterSec?: number) {
    super(message);
    this.name = "RequestLimitError";
    this.code = code;
    this.status = STATUS[code];
    this.retryAfterSec = retryAfterSec;
  }
}

export interface ReadBodyOptions {
  maxBytes: number;
  /** The whole body must arrive within this long of the call. */
  timeoutMs: number;
  /** Longest gap between two chunks; default: timeoutMs. */
  idleTimeoutMs?: number;
}

/**
 * Reads a request body into memory, refusing it early: by Content-Length before a byte is
 * read, or as soon as the streamed count passes maxBytes. On refusal the rest is left
 * unread; answer with `sendLimitError`, which closes the connection.
 */
export function readBody(req: http.IncomingMessage, opts: ReadBodyOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > opts.maxBytes) {
      reject(tooLarge(opts.maxBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const idleMs = opts.idleTimeoutMs ?? opts.timeoutMs;
    // One timer for both bounds (it showed in the gateway's profile as two per request):
    // it wakes at the nearer of the overall deadline and the idle limit, and re-arms.
    const started = Date.now();
    let lastData = started;
    const check = () => {
      const now = Date.now();
      if (now - started >= opts.timeoutMs)
        return fail(
          new RequestLimitError("body_timeout", `request body not received within ${opts.timeoutMs}ms`),
        );
      if (now - lastData >= idleMs)
        return fail(new RequestLimitError("body_timeout", `request body stalled for ${idleMs}ms`));
      timer = setTimeout(check, Math.min(started + opts.timeoutMs, lastData + idleMs) - now);
    };
    let timer = setTimeout(check, Math.min(opts.timeoutMs, idleMs));

    const cleanup = () => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onClose);
      req.off("close", onClose);
    };
    const fail = (err: RequestLimitError) => {
      cleanup();
      req.pause();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > opts.maxBytes) return fail(tooLarge(opts.maxBytes));
      chunks.push(chunk);
      lastData = Date.now();
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, received));
    };
    const onClose = () => {
      if (!req.complete)
        fail(new RequestLimitError("client_aborted", "client closed the request before its end"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onClose);
    req.on("close", onClose);
  });
}

function tooLarge(maxBytes: number) {
  return new RequestLimitError("body_too_large", `request body exceeds ${maxBytes} bytes`);
}

/** Status, headers and problem+json body for a limit error, for whichever HTTP layer answers. */
export function limitErrorResponse(err: RequestLimitError): {
  status: number;
  headers: Record<string, string>;
  body: string;
} {
  const headers: Record<string, string> = { "content-type": "application/problem+json" };
  if (err.retryAfterSec !== undefined) headers["retry-after"] = String(err.retryAfterSec);
  // An unread body or a stalling client: the connection is not worth keeping.
  if (err.status !== 429) headers.connection = "close";
  const body = JSON.stringify({
    type: "about:blank",
    title: err.code,
    status: err.status,
    detail: err.message,
  });
  return { status: err.status, headers, body };
}

export function sendLimitError(res: http.ServerResponse, err: RequestLimitError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const r = limitErrorResponse(err);
  res.writeHead(r.status, r.headers).end(r.body);
}

export interface ServerTimeouts {
  /** Complete request headers must arrive within this (node answers 408 and closes). */
  headersTimeoutMs: number;
  /** The complete request, headers and body. */
  requestTimeoutMs: number;
  /** Idle time allowed between requests on a kept-alive connection. */
  keepAliveTimeoutMs: number;
  /** How often node checks the two timeouts above; node's default is 30s. */
  checkIntervalMs?: number;
}

function validateTimeouts(t: ServerTimeouts): void {
  for (const [k, v] of Object.entries(t)) {
    if (v !== undefined && (!Number.isInteger(v) || v <= 0))
      throw new RangeError(`${k} must be a positive integer`);
  }
  if (t.requestTimeoutMs < t.headersTimeoutMs)
    throw new RangeError("requestTimeoutMs must be >= headersTimeoutMs");
}

/**
 * Options for http.createServer. The check interval can only be set here: node sweeps for
 * expired headers/requests on that timer, so with its 30s default a slowloris client lives
 * up to 30s past headersTimeout.
 */
export function serverTimeoutOptions(t: ServerTimeouts): http.ServerOptions {
  validateTimeouts(t);
  return {
    headersTimeout: t.headersTimeoutMs,
    requestTimeout: t.requestTimeoutMs,
    keepAliveTimeout: t.keepAliveTimeoutMs,
    connectionsCheckingInterval: t.checkIntervalMs ?? Math.min(1_000, t.headersTimeoutMs),
  };
}

/** For a server created elsewhere; pair with `serverTimeoutOptions` at creation for a short check interval. */
export function applyServerTimeouts(server: http.Server, t: ServerTimeouts): void {
  validateTimeouts(t);
  server.headersTimeout = t.headersTimeoutMs;
  server.requestTimeout = t.requestTimeoutMs;
  server.keepAliveTimeout = t.keepAliveTimeoutMs;
}
