/** The problem code of each status the gateway answers with (modelgov's closed set of codes). */
const CODE: Record<number, string> = {
  400: "invalid_input",
  401: "unauthenticated",
  403: "forbidden",
  404: "not_found",
  408: "invalid_input",
  413: "invalid_input",
  429: "precondition_failed",
  502: "upstream_error",
  503: "upstream_error",
  504: "upstream_error",
};

export interface GatewayErrorOptions {
  /** The field at fault (`authorization`, `body.model`, ...); default `request`. */
  field?: string;
  /** Headers the answer carries besides the request id: Retry-After, WWW-Authenticate. */
  headers?: Record<string, string>;
  /** More members of the problem body (the fallback path of a chain that failed). */
  extra?: Record<string, unknown>;
  /** The problem code when the status's usual one is wrong (a kill switch's 503 is `unavailable`). */
  code?: string;
  cause?: unknown;
}

/**
 * A refusal or failure the gateway answers with: status, detail (the message), the field at
 * fault and its headers. Thrown anywhere in the data plane; `sendError` (respond.ts) is the
 * one place that renders it as problem+json in the caller's dialect.
 */
export class GatewayError extends Error {
  readonly status: number;
  readonly field: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly extra: Readonly<Record<string, unknown>> | undefined;
  readonly #code: string | undefined;
  constructor(status: number, detail: string, opts: GatewayErrorOptions = {}) {
    super(detail, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "GatewayError";
    this.status = status;
    this.field = opts.field ?? "request";
    this.headers = opts.headers ?? {};
    this.extra = opts.extra;
    this.#code = opts.code;
  }

  /** modelgov's problem code for the status (`internal` for one outside the set). */
  get code(): string {
    return this.#code ?? CODE[this.status] ?? "internal";
  }
}
