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
  upstream_error: 502,
  internal: 500,
};

const TITLE: Record<ErrorCode, string> = {
  invalid_input: "Invalid input",
  unauthenticated: "Authentication required",
  forbidden: "Forbidden",
  not_found: "Not found",
  conflict: "Conflict",
  precondition_failed: "Precondition failed",
  upstream_error: "Upstream error",
  internal: "Internal error",
};

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
      // RFC 9110: a 401 names the scheme that would be accepted.
      ...(problem.status === 401 ? { "www-authenticate": 'Bearer realm="modelgov"' } : {}),
    },
  });
}
