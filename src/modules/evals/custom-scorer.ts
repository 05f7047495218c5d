/**
 * Custom scorers: operator-installed modules in the server's scorer directory
 * (MODELGOV_EVAL_SCORERS_DIR). Runs execute on the server, which holds provider credentials
 * and the egress allow-list, so a suite may only name a module already installed there; it
 * can never upload one. Module contract and the reasons: docs/evals.md.
 */
import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { ScoreResult } from "../../engines/scoring/index.ts";
import { invalid } from "../../lib/errors.ts";
import type { Message } from "./suite.ts";

export interface CustomScoreInput {
  caseId: string;
  output: string;
  expect: Record<string, unknown>;
  input: { messages: Message[]; fields?: Record<string, string | number | boolean> };
  attributes: Record<string, string>;
}

export type CustomScoreFn = (input: CustomScoreInput) => Promise<ScoreResult>;

export interface LoadOptions {
  /** Per-call limit in milliseconds (default 10 s); a call still pending then fails the case. */
  timeoutMs?: number;
  /** The field named in errors, e.g. `scorers[2].module` (default `module`). */
  field?: string;
}

export const DEFAULT_SCORER_TIMEOUT_MS = 10_000;

type UserFn = (input: CustomScoreInput) => unknown;

/** Modules by real path, so a module reached by two names (a symlink) is imported once. */
const loaded = new Map<string, Promise<UserFn>>();

const isInside = (dir: string, file: string) => {
  const rel = path.relative(dir, file);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
};

const errnoCode = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** The real path of `module` inside `dir`; refuses absolute paths and anything that lands outside. */
async function resolveModule(dir: string, module: string, field: string): Promise<string> {
  const outside = invalid(field, `${module} is outside the server's scorer directory`);
  if (path.isAbsolute(module) || path.win32.isAbsolute(module)) throw outside;
  let realDir: string;
  try {
    realDir = await realpath(dir);
  } catch (e) {
    throw invalid(field, `the server's scorer directory cannot be read (${errnoCode(e) ?? String(e)})`);
  }
  if (!isInside(realDir, path.resolve(realDir, module))) throw outside;
  let real: string;
  try {
    real = await realpath(path.resolve(realDir, module));
  } catch (e) {
    if (errnoCode(e) === "ENOENT")
      throw invalid(field, `no scorer module ${module} in the server's scorer directory`);
    throw invalid(field, `cannot read scorer module ${module} (${errnoCode(e) ?? String(e)})`);
  }
  // A symlink inside the directory may still point out of it.
  if (!isInside(realDir, real)) throw outside;
  if (!(await stat(real)).isFile()) throw invalid(field, `scorer module ${module} is not a file`);
  return real;
}

async function importScorer(real: string, module: string, field: string): Promise<UserFn> {
  let ns: Record<string, unknown>;
  try {
    ns = (await import(pathToFileURL(real).href)) as Record<string, unknown>;
  } catch (e) {
    throw invalid(field, `scorer module ${module} failed to load: ${(e as Error).message ?? String(e)}`);
  }
  const fn = typeof ns.default === "function" ? ns.default : ns.score;
  if (typeof fn !== "function")
    throw invalid(field, `scorer module ${module} exports no function: give a default export or \`score\``);
  return fn as UserFn;
}

const failed = (reason: string): ScoreResult => ({ score: 0, passed: false, reason });

const describe = (v: unknown) => {
  const s = v === undefined ? "undefined" : (JSON.stringify(v) ?? String(v));
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
};

/**
 * Checks what a user scorer returned: `{ score: 0..1, passed?: boolean, reason?: string }`.
 * `passed` defaults to `score === 1`: a graded scorer must say where its own threshold is
 * rather than inherit one it never chose.
 */
export function checkScorerResult(value: unknown, module: string): ScoreResult {
  const wrong = (why: string) =>
    failed(
      `scorer ${module} returned ${describe(value)}: ${why} (expected { score: 0..1, passed?, reason? })`,
    );
  if (value === null || typeof value !== "object" || Array.isArray(value)) return wrong("not an object");
  const { score, passed, reason } = value as Record<string, unknown>;
  if (typeof score !== "number" || !Number.isFinite(score)) return wrong("score is not a number");
  if (score < 0 || score > 1) return wrong("score is outside 0..1");
  if (passed !== undefined && typeof passed !== "boolean") return wrong("passed is not a boolean");
  if (reason !== undefined && typeof reason !== "string") return wrong("reason is not a string");
  return {
    score,
    passed: passed ?? score === 1,
    reason: reason?.trim() ? reason.trim().slice(0, 500) : `scorer ${module}: score ${score}`,
  };
}

/**
 * Loads (and caches) a user scorer module from the server's scorer directory. Throws
 * AppError(invalid_input) when custom scorers are disabled (`dir` undefined), the path leaves
 * the directory (absolute, `..`, a symlink pointing out), the module is missing, fails to load
 * or exports no function. The returned function never rejects: a throw, a wrong shape or a
 * call pending past the timeout becomes a failed result with the reason. The timeout bounds
 * waiting only: a scorer that loops synchronously blocks the server, like any installed code.
 */
export async function loadCustomScorer(
  dir: string | undefined,
  module: string,
  options: LoadOptions = {},
): Promise<CustomScoreFn> {
  const field = options.field ?? "module";
  const timeoutMs = options.timeoutMs ?? DEFAULT_SCORER_TIMEOUT_MS;
  if (dir === undefined)
    throw invalid(field, "custom scorers are disabled on this server: set MODELGOV_EVAL_SCORERS_DIR");
  const real = await resolveModule(dir, module, field);
  // Once per process: Node keeps an imported module for the life of the process anyway (a
  // changed scorer needs a restart), and the map also keeps a failed load failing the same way.
  let pending = loaded.get(real);
  if (!pending) {
    pending = importScorer(real, module, field);
    loaded.set(real, pending);
  }
  const fn = await pending;

  return async (input) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<ScoreResult>((resolve) => {
      timer = setTimeout(
        () => resolve(failed(`scorer ${module} did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    // A copy, so a scorer that mutates its input cannot change the case for the scorers after it.
    const call = Promise.resolve()
      .then(() => fn(structuredClone(input)))
      .then(
        (value) => checkScorerResult(value, module),
        (e: unknown) => failed(`scorer ${module} threw: ${e instanceof Error ? e.message : describe(e)}`),
      );
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}
