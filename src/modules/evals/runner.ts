/**
 * Runs the cases of one evaluation run that are not recorded yet: bounded concurrency,
 * retries with jittered backoff (Retry-After honoured), every scorer, and one row per case
 * written the moment it is scored. Killing the runner loses only the cases in flight; the
 * next runner starts from the recorded ones (evals.store doneCaseIds), so no finished case
 * is done twice and none is lost.
 */
import { createHash } from "node:crypto";
import {
  type BuiltinScorerConfig,
  isBuiltinScorer,
  type ScoreResult,
  scoreCase,
} from "../../engines/scoring/index.ts";
import type { Clock } from "../../lib/clock.ts";
import type { SignalLike } from "../../lib/light-abort.ts";
import { retryPolicy, withRetries } from "../../providers/http/retry.ts";
import { UpstreamError } from "../../providers/types.ts";
import type { Queryable } from "../../store/db.ts";
import { loadCustomScorer } from "./custom-scorer.ts";
import * as store from "./evals.store.ts";
import type { EvalInvoker, InvokeResult } from "./invoker.ts";
import { judgeCase } from "./judge.ts";
import type { ScorerConfig } from "./suite.schemas.ts";
import type { Suite, SuiteCase } from "./suite.ts";

export interface RunnerDeps {
  db: Queryable;
  clock: Clock;
  invoker: EvalInvoker;
  /** Resolves `model@version` to a version id, for LLM judges. */
  resolveRef: (ref: string) => Promise<string>;
  /** The operator's directory of custom scorer modules (MODELGOV_EVAL_SCORERS_DIR). */
  scorersDir?: string;
  /** Called after each recorded case (progress). */
  onCase?: (runId: string, c: store.CaseRow) => void;
}

export interface RunJob {
  run: store.RunRow;
  suite: Suite;
  signal: SignalLike;
}

const sha256 = (s: string) => `sha256:${createHash("sha256").update(s).digest("hex")}`;

/** The expected answer in the case, when it names one (the simulator answers it when it "succeeds"). */
export function referenceOf(expect: Record<string, unknown>): string | undefined {
  for (const k of ["label", "equals", "answer", "number"]) {
    const v = expect[k];
    if (typeof v === "string" || typeof v === "number") return String(v);
  }
  return undefined;
}

const errorText = (err: unknown) =>
  err instanceof UpstreamError
    ? `${err.kind}${err.status ? ` ${err.status}` : ""}: ${err.message}`
    : err instanceof Error
      ? err.message
      : String(err);

const isAbort = (err: unknown, signal: SignalLike) =>
  signal.aborted || (err instanceof UpstreamError && err.kind === "aborted");

/**
 * The upstream request id of a case's call: the suite and the case, not the run, so the
 * same case asks the same question on every run (a seeded simulator answers it the same).
 */
export const callId = (run: store.RunRow, caseId: string, what: string) =>
  `eval-${run.suiteHash.slice(7, 19)}.${caseId}.${what}`;

/** Runs every unrecorded case of the job; resolves when all are recorded or the signal aborted. */
export async function runPending(
  deps: RunnerDeps,
  job: RunJob,
): Promise<{ recorded: number; started: number; aborted: boolean }> {
  const { run, suite, signal } = job;
  const done = await store.doneCaseIds(deps.db, run.id);
  const queue = suite.cases.filter((c) => !done.has(c.id));
  const policy = retryPolicy({ maxAttempts: run.options.maxAttempts, baseMs: 250, maxMs: 10_000 });
  let recorded = 0;
  let started = 0;
  let next = 0;

  async function worker() {
    while (!signal.aborted && next < queue.length) {
      const c = queue[next++]!;
      started++;
      const row = await runCase(deps, run, suite, c, policy, signal);
      if (!row) return; // aborted mid-case: it stays unrecorded for the next runner
      if (await store.insertCase(deps.db, run.id, row)) {
        recorded++;
        deps.onCase?.(run.id, row);
      }
    }
  }
  const width = Math.max(1, Math.min(run.options.concurrency, queue.length));
  await Promise.all(Array.from({ length: width }, worker));
  return { recorded, started, aborted: signal.aborted };
}

async function runCase(
  deps: RunnerDeps,
  run: store.RunRow,
  suite: Suite,
  c: SuiteCase,
  policy: ReturnType<typeof retryPolicy>,
  signal: SignalLike,
): Promise<store.CaseRow | null> {
  const reference = referenceOf(c.expect);
  let attempts = 0;
  let out: InvokeResult;
  try {
    out = await withRetries(
      ({ attempt }) => {
        attempts = attempt;
        return deps.invoker.call(run.versionId, c.input.messages, {
          requestId: callId(run, c.id, String(attempt)),
          signal,
          groups: c.attributes,
          ...(reference !== undefined ? { reference } : {}),
        });
      },
      policy,
      { signal, attemptHonoursSignal: true },
    );
  } catch (err) {
    if (isAbort(err, signal)) return null;
    return failedCase(c, attempts, errorText(err), deps.clock);
  }
  const scorers = c.scorers ?? suite.scorers;
  const verdicts: (ScoreResult & { kind: string })[] = [];
  let { tokensIn, tokensOut, costUsd } = out;
  const builtin = scorers.filter((s): s is BuiltinScorerConfig & ScorerConfig => isBuiltinScorer(s.kind));
  if (builtin.length)
    verdicts.push(...scoreCase(builtin, { text: out.text, toolCalls: out.toolCalls }, c.expect).results);
  for (const [i, s] of scorers.entries()) {
    if (s.kind === "llm_judge") {
      try {
        const j = await withRetries(
          ({ attempt }) =>
            judgeCase(
              s,
              { input: c.input.messages, output: out.text, expect: c.expect },
              async (ref, messages, requestId) => {
                const r = await deps.invoker.call(await deps.resolveRef(ref), messages, {
                  requestId,
                  signal,
                });
                return { text: r.text, tokensIn: r.tokensIn, tokensOut: r.tokensOut, costUsd: r.costUsd };
              },
              callId(run, c.id, `judge${i}.${attempt}`),
            ),
          policy,
          { signal, attemptHonoursSignal: true },
        );
        // The judge's tokens and cost are the evaluation's, not the model's: they stay out of the case's cost.
        verdicts.push({ kind: "llm_judge", score: j.score, passed: j.passed, reason: j.reason });
      } catch (err) {
        if (isAbort(err, signal)) return null;
        verdicts.push({
          kind: "llm_judge",
          score: 0,
          passed: false,
          reason: `judge failed: ${errorText(err)}`,
        });
      }
    } else if (s.kind === "custom") {
      try {
        const fn = await loadCustomScorer(deps.scorersDir, s.module, {
          ...(s.timeoutMs !== undefined ? { timeoutMs: s.timeoutMs } : {}),
          field: `scorers[${i}].module`,
        });
        const r = await fn({
          caseId: c.id,
          output: out.text,
          expect: c.expect,
          input: c.input,
          attributes: c.attributes,
        });
        verdicts.push({ kind: `custom:${s.name ?? s.module}`, ...r });
      } catch (err) {
        verdicts.push({
          kind: `custom:${s.name ?? s.module}`,
          score: 0,
          passed: false,
          reason: errorText(err),
        });
      }
    }
  }
  tokensIn ??= 0;
  tokensOut ??= 0;
  costUsd ??= 0;
  const passed = verdicts.every((v) => v.passed);
  return {
    caseId: c.id,
    passed,
    score: verdicts.length ? verdicts.reduce((s, v) => s + v.score, 0) / verdicts.length : 0,
    safetyViolation: verdicts.some((v) => v.kind === "safety" && !v.passed),
    latencyMs: out.upstreamMs,
    costUsd,
    tokensIn,
    tokensOut,
    attributes: c.attributes,
    error: null,
    output: run.options.outputs === "text" ? out.text : null,
    outputHash: sha256(out.text),
    attempts,
    scorers: verdicts.map(({ kind, score, passed, reason }) => ({ kind, score, passed, reason })),
    route: out.route ?? null,
    recordedAt: deps.clock.now().toISOString(),
  };
}

/** A case whose call failed every attempt: recorded as failed, with the error (it counts against the version). */
function failedCase(c: SuiteCase, attempts: number, error: string, clock: Clock): store.CaseRow {
  return {
    caseId: c.id,
    passed: false,
    score: 0,
    safetyViolation: false,
    latencyMs: 0,
    costUsd: 0,
    tokensIn: 0,
    tokensOut: 0,
    attributes: c.attributes,
    error,
    output: null,
    outputHash: null,
    attempts,
    scorers: [],
    recordedAt: clock.now().toISOString(),
  };
}
