/**
 * The one error type of modelgov. Services throw it; the HTTP error handler maps
 * `code` to a status and renders application/problem+json.
 */
export type ErrorCode =
  | "not_found"
  | "conflict"
  | "invalid_input"
  | "unauthenticated"
  | "forbidden"
  | "precondition_failed"
  /** Well-formed, but the change would break a governance rule (a flag variant naming an unservable version). */
  | "unprocessable"
  | "upstream_error"
  | "unavailable"
  | "internal";

export interface FieldProblem {
  /** Dotted path of the offending field, e.g. `body.version` or `contract.output.answer`. */
  field: string;
  reason: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldProblem[];
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { errors?: FieldProblem[]; details?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.errors = opts.errors ?? [];
    this.details = opts.details;
  }
}

export const notFound = (what: string) => new AppError("not_found", `${what} not found`);

export const invalid = (field: string, reason: string, details?: Record<string, unknown>) =>
  new AppError("invalid_input", `${field}: ${reason}`, { errors: [{ field, reason }], details });

export const conflict = (message: string, errors: FieldProblem[] = [], details?: Record<string, unknown>) =>
  new AppError("conflict", message, { errors, details });
