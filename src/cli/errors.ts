import { CommanderError, InvalidArgumentError } from "commander";
import { ApiError } from "../client/index.ts";
import type { Io } from "./output.ts";

/**
 * A failure a command finds itself (no server call behind it): `problems` are printed one per
 * line, and under `--json` as one document; `exitCode` 2 is a usage error, 1 anything else.
 */
export class CliError extends Error {
  readonly problems: string[];
  readonly exitCode: number;
  constructor(problems: string | string[], exitCode = 1) {
    const list = typeof problems === "string" ? [problems] : problems;
    super(list.join("; "));
    this.name = "CliError";
    this.problems = list;
    this.exitCode = exitCode;
  }
}

/** True when `--json` is on the command line (before a `--`), even if parsing failed before it. */
export function jsonRequested(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).includes("--json");
}

/**
 * One error a command reports and goes on (a bad line among good ones): `error: ...`, or under
 * `--json` one JSON object `{ code: "error", detail, exitCode }`.
 */
export function printError(io: Io, json: boolean, detail: string, exitCode = 1): void {
  if (json) io.err(JSON.stringify({ code: exitCode === 2 ? "usage" : "error", detail, exitCode }));
  else io.err(`error: ${detail}`);
}

const isUnreachable = (e: NodeJS.ErrnoException) =>
  e?.code === "ECONNREFUSED" || (e instanceof TypeError && /fetch failed/.test(e.message));

/**
 * Prints what went wrong and returns the exit code (0 help/version, 1 failure, 2 usage error).
 * Under `--json` it is one JSON object on stderr: an API failure's problem document as the
 * server sent it; otherwise `{ code, detail, exitCode }` (the `code` and `detail` a problem has
 * too, so a script reads both alike). Without `--json`, the plain `error: ...` lines.
 */
export function reportError(err: unknown, io: Io, json: boolean, serverUrl: () => string): number {
  const emit = (doc: Record<string, unknown>) => io.err(JSON.stringify(doc));
  // A usage error a command's action finds itself (two options that exclude each other): commander
  // prints the ones it finds while parsing, never these.
  if (err instanceof InvalidArgumentError) {
    if (json) emit({ code: "usage", detail: err.message, exitCode: 2 });
    else io.err(`error: ${err.message}`);
    return 2;
  }
  if (err instanceof CommanderError) {
    if (["commander.helpDisplayed", "commander.version", "commander.help"].includes(err.code)) return 0;
    // Commander printed it already, unless --json silenced it (see buildProgram's outputError).
    if (json) emit({ code: err.code, detail: err.message.replace(/^error: /, ""), exitCode: 2 });
    return 2;
  }
  if (err instanceof CliError) {
    if (json) printError(io, true, err.message, err.exitCode);
    else for (const p of err.problems) printError(io, false, p);
    return err.exitCode;
  }
  if (err instanceof ApiError) {
    if (json) {
      emit({ ...(err.problem.status === undefined ? { status: err.status } : {}), ...err.problem });
      return 1;
    }
    const detail = err.problem.detail ?? err.message;
    io.err(`error: ${detail} (HTTP ${err.status})`);
    // The detail often is the one field's reason already: say each thing once.
    for (const e of err.problem.errors ?? [])
      if (!detail.includes(`${e.field}: ${e.reason}`)) io.err(`  ${e.field}: ${e.reason}`);
    return 1;
  }
  const e = err as NodeJS.ErrnoException;
  if (isUnreachable(e)) {
    const url = serverUrl();
    if (json)
      emit({
        code: "unreachable",
        detail: `cannot reach the modelgov server (${url})`,
        url,
        cause: (e.cause as NodeJS.ErrnoException | undefined)?.code ?? e.code ?? e.message,
        exitCode: 1,
      });
    else
      io.err(
        `error: cannot reach the modelgov server (${url}); start it with 'modelgov serve' or set MODELGOV_URL`,
      );
    return 1;
  }
  printError(io, json, e?.message ?? String(err));
  return 1;
}
