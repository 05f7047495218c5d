import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ZodError } from "zod";
import { AppError, type ErrorCode, type FieldProblem } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";

const STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  unprocessable: 422,
  upstream_error: 502,
  unavailable: 503,
  internal: 500,
};

const TITLE: Record<ErrorCode, string> = {
  invalid_input: "Invalid input",
  unauthenticated: "Authentication required",
  forbidden: "Forbidden",
  not_found: "Not found",
  conflict: "Conflict",
  precondition_failed: "Precondition failed",
  unprocessable: "Unprocessable content",
  upstream_error: "Upstream error",
  unavailable: "Service unavailable",
  internal: "Internal error",
};

/** Seconds a client should wait before retrying while the store is unreachable. */
export const RETRY_AFTER_SECONDS = 5;

/** Error codes of a store that cannot be reached, by the driver (errno) or PostgreSQL (SQLSTATE). */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
]);

/** The store is down or unreachable: connection refused or lost, shutting down, too many clients. */
export function isStoreUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  if (UNREACHABLE.has(code)) return true;
  // 08xxx connection exceptions; 57P01-57P03 admin/crash shutdown, cannot connect now; 53300 too many connections.
  if (/^08/.test(code) || ["57P01", "57P02", "57P03", "53300"].includes(code)) return true;
  const message = typeof e?.message === "string" ? e.message : "";
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    message,
  );
}

/** PostgreSQL refused a character (a NUL, or one with no encoding): the caller's text, not a bug. */
function isUnstorableText(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "22P05" || code === "22021";
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors: FieldProblem[];
  requestId?: string;
  [extra: string]: unknown;
}

export function toProblem(err: AppError, requestId?: string): Problem {
  return {
    type: `https://modelgov.dev/problems/${err.code.replace(/_/g, "-")}`,
    title: TITLE[err.code],
    status: STATUS[err.code],
    detail: err.message,
    code: err.code,
    errors: err.errors,
    ...(err.details ?? {}),
    ...(requestId ? { requestId } : {}),
  };
}

/** Turns a zod failure at the edge into field problems: `body.version`, `query.limit`. */
export function zodToAppError(error: ZodError, target: string): AppError {
  const errors = error.issues.map((issue) => ({
    field: [target === "json" ? "body" : target, ...issue.path.map(String)].join("."),
    reason: issue.message,
  }));
  const first = errors[0];
  return new AppError("invalid_input", first ? `${first.field}: ${first.reason}` : "invalid input", {
    errors,
  });
}

/** The one error handler: known errors become their status, anything else `internal` and is logged. */
export function problemResponse(err: unknown, c: Context, logger: Logger): Response {
  const requestId = c.get("ctx")?.requestId as string | undefined;
  let appErr: AppError;
  if (err instanceof AppError) appErr = err;
  else if (err instanceof HTTPException && err.status < 500) {
    // Hono's own refusals (malformed JSON body, and the like) name no field beyond the body.
    const code =
      err.status === 401
        ? "unauthenticated"
        : err.status === 403
          ? "forbidden"
          : err.status === 404
            ? "not_found"
            : "invalid_input";
    appErr = new AppError(code, `body: ${err.message}`, { errors: [{ field: "body", reason: err.message }] });
  } else if (err instanceof SyntaxError && /JSON/i.test(err.message)) {
    appErr = new AppError("invalid_input", `body: malformed JSON (${err.message})`, {
      errors: [{ field: "body", reason: "malformed JSON" }],
    });
  } else if (isStoreUnavailable(err)) {
    logger.warn({ err, requestId }, "store unavailable");
    appErr = new AppError(
      "unavailable",
      `the store is unreachable; nothing was changed. Retry in ${RETRY_AFTER_SECONDS} s (the gateway keeps serving)`,
      { errors: [{ field: "store", reason: "unreachable" }] },
    );
  } else if (isUnstorableText(err)) {
    appErr = new AppError(
      "invalid_input",
      "text the store cannot hold (a NUL character or invalid Unicode)",
      {
        errors: [{ field: "body", reason: "holds a character the store cannot hold" }],
      },
    );
  } else {
    logger.error({ err, requestId }, "unhandled error");
    appErr = new AppError("internal", "internal error; the request id is in the server log");
  }
  const problem = toProblem(appErr, requestId);
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: {
      "content-type": "application/problem+json",
      ...(requestId ? { "x-request-id": requestId } : {}),
      // RFC 9110: a 401 names the scheme that would be accepted; a 503 says when to come back.
      ...(problem.status === 401 ? { "www-authenticate": 'Bearer realm="modelgov"' } : {}),
      ...(problem.status === 503 ? { "retry-after": String(RETRY_AFTER_SECONDS) } : {}),
    },
  });
}
