/** SQL for evaluation suites, runs and case results (migration 20261126000000_evals.sql). */

import type { CaseResult } from "../../engines/evaluation/index.ts";
import type { RunFacts } from "../../engines/policy/gates.ts";
import type { Queryable } from "../../store/db.ts";
import type { Suite } from "./suite.ts";

type Row = Record<string, unknown>;
const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : d == null ? null : String(d));

export type RunStatus = "running" | "completed" | "failed" | "cancelled";

export interface RunOptions {
  concurrency: number;
  /** Attempts per call, the first included. */
  maxAttempts: number;
  /** Keep each answer ("text") or only its SHA-256 ("hash"). */
  outputs: "text" | "hash";
  /** Attribute combinations broken down besides each attribute alone. */
  intersections: string[][];
  minGroupSize: number;
}

export interface RunRow {
  id: string;
  versionId: string;
  model: string;
  version: string;
  suiteHash: string;
  suiteName: string;
  status: RunStatus;
  options: RunOptions;
  total: number;
  done: number;
  createdBy: string;
  createdAt: string;
  finishedAt: string | null;
  report: Record<string, unknown> | null;
  reportHash: string | null;
  error: string | null;
}

/** What a router version did with a case (null for a plain version's case). */
export interface CaseRoute {
  tier: string;
  why: string;
  versionId: string;
  /** A two-tier complexity or trained router's score, unrounded. */
  score?: number;
  tiers?: { tier: string; outcome: string }[];
}

/** One case's row: what the engine aggregates, plus what was recorded about the call. */
export interface CaseRow extends CaseResult {
  /** A router version's case: the tier that answered, why, and its score. */
  route?: CaseRoute | null;
  output: string | null;
  outputHash: string | null;
  attempts: number;
  scorers: { kind: string; score: number; passed: boolean; reason: string }[];
  recordedAt: string;
}

export async function saveSuite(q: Queryable, suite: Suite, at: string): Promise<void> {
  await q.query(
    `INSERT INTO eval_suites (hash, name, case_count, content, created_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (hash) DO NOTHING`,
    [suite.hash, suite.name, suite.cases.length, JSON.stringify(suite), at],
  );
}

export async function loadSuiteByHash(q: Queryable, hash: string): Promise<Suite | null> {
  const rows = await q.query<{ content: Suite }>("SELECT content FROM eval_suites WHERE hash = $1", [hash]);
  return rows[0]?.content ?? null;
}

const RUN_SELECT = `
  SELECT r.*, m.name AS model, v.version,
         (SELECT count(*)::int FROM eval_case_results c WHERE c.run_id = r.id) AS done
    FROM eval_runs r JOIN model_versions v ON v.id = r.version_id JOIN models m ON m.id = v.model_id`;

const toRun = (r: Row): RunRow => ({
  id: r.id as string,
  versionId: r.version_id as string,
  model: r.model as string,
  version: r.version as string,
  suiteHash: r.suite_hash as string,
  suiteName: r.suite_name as string,
  status: r.status as RunStatus,
  options: r.options as RunOptions,
  total: Number(r.total),
  done: Number(r.done),
  createdBy: r.created_by as string,
  createdAt: iso(r.created_at)!,
  finishedAt: iso(r.finished_at),
  report: (r.report as Record<string, unknown> | null) ?? null,
  reportHash: (r.report_hash as string | null) ?? null,
  error: (r.error as string | null) ?? null,
});

export async function insertRun(
  q: Queryable,
  r: Pick<
    RunRow,
    "id" | "versionId" | "suiteHash" | "suiteName" | "options" | "total" | "createdBy" | "createdAt"
  >,
): Promise<void> {
  await q.query(
    `INSERT INTO eval_runs (id, version_id, suite_hash, suite_name, status, options, total, created_by, created_at)
     VALUES ($1, $2, $3, $4, 'running', $5, $6, $7, $8)`,
    [
      r.id,
      r.versionId,
      r.suiteHash,
      r.suiteName,
      JSON.stringify(r.options),
      r.total,
      r.createdBy,
      r.createdAt,
    ],
  );
}

export async function getRun(q: Queryable, id: string, forUpdate = false): Promise<RunRow | null> {
  if (forUpdate) await q.query("SELECT id FROM eval_runs WHERE id = $1 FOR UPDATE", [id]);
  const rows = await q.query<Row>(`${RUN_SELECT} WHERE r.id = $1`, [id]);
  return rows[0] ? toRun(rows[0]) : null;
}

export async function runningRunFor(
  q: Queryable,
  versionId: string,
  suiteHash: string,
): Promise<RunRow | null> {
  const rows = await q.query<Row>(
    `${RUN_SELECT} WHERE r.version_id = $1 AND r.suite_hash = $2 AND r.status = 'running'`,
    [versionId, suiteHash],
  );
  return rows[0] ? toRun(rows[0]) : null;
}

/** The latest completed run of a version on a suite, for comparisons that reuse results. */
export async function latestCompleted(
  q: Queryable,
  versionId: string,
  suiteHash: string,
): Promise<RunRow | null> {
  const rows = await q.query<Row>(
    `${RUN_SELECT} WHERE r.version_id = $1 AND r.suite_hash = $2 AND r.status = 'completed'
      ORDER BY r.finished_at DESC LIMIT 1`,
    [versionId, suiteHash],
  );
  return rows[0] ? toRun(rows[0]) : null;
}

/**
 * What the release gates read of the version's latest completed run (of `suite` when given):
 * its suite, aggregate and group breakdown, from the stored report; null without one.
 */
export async function latestRunFacts(
  q: Queryable,
  versionId: string,
  suite?: string,
): Promise<{ runId: string; facts: RunFacts } | null> {
  const rows = await q.query<{ id: string; suite_name: string; report: Record<string, unknown> | null }>(
    `SELECT id, suite_name, report FROM eval_runs
      WHERE version_id = $1 AND status = 'completed' AND report IS NOT NULL AND ($2::text IS NULL OR suite_name = $2)
      ORDER BY finished_at DESC LIMIT 1`,
    [versionId, suite ?? null],
  );
  const r = rows[0];
  if (!r?.report) return null;
  return {
    runId: r.id,
    facts: {
      suite: r.suite_name,
      aggregate: r.report.aggregate as RunFacts["aggregate"],
      groups: (r.report.groups ?? {}) as RunFacts["groups"],
    },
  };
}

export async function listRuns(
  q: Queryable,
  f: { versionId?: string; modelId?: string; status?: RunStatus; limit: number },
): Promise<RunRow[]> {
  const rows = await q.query<Row>(
    `${RUN_SELECT}
      WHERE ($1::text IS NULL OR r.version_id = $1) AND ($2::text IS NULL OR v.model_id = $2)
        AND ($3::text IS NULL OR r.status = $3)
      ORDER BY r.created_at DESC, r.id DESC LIMIT $4`,
    [f.versionId ?? null, f.modelId ?? null, f.status ?? null, f.limit],
  );
  return rows.map(toRun);
}

export async function runningRunIds(q: Queryable): Promise<string[]> {
  const rows = await q.query<{ id: string }>(
    "SELECT id FROM eval_runs WHERE status = 'running' ORDER BY created_at",
  );
  return rows.map((r) => r.id);
}

export async function finishRun(
  q: Queryable,
  id: string,
  f: { status: RunStatus; at: string; report?: unknown; reportHash?: string | null; error?: string | null },
): Promise<void> {
  await q.query(
    `UPDATE eval_runs SET status = $2, finished_at = $3, report = $4, report_hash = $5, error = $6 WHERE id = $1`,
    [id, f.status, f.at, f.report ? JSON.stringify(f.report) : null, f.reportHash ?? null, f.error ?? null],
  );
}

/** Records one case; a case already recorded (a racing runner) keeps its first result. Returns whether it was new. */
export async function insertCase(q: Queryable, runId: string, c: CaseRow): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO eval_case_results (run_id, case_id, passed, score, safety_violation, output, output_hash,
        latency_ms, tokens_in, tokens_out, cost_usd, attempts, error, scorers, attributes, recorded_at, route)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
     ON CONFLICT (run_id, case_id) DO NOTHING RETURNING case_id`,
    [
      runId,
      c.caseId,
      c.passed,
      c.score,
      c.safetyViolation,
      c.output,
      c.outputHash,
      c.latencyMs,
      c.tokensIn,
      c.tokensOut,
      c.costUsd,
      c.attempts,
      c.error ?? null,
      JSON.stringify(c.scorers),
      JSON.stringify(c.attributes),
      c.recordedAt,
      c.route ? JSON.stringify(c.route) : null,
    ],
  );
  return rows.length > 0;
}

export async function doneCaseIds(q: Queryable, runId: string): Promise<Set<string>> {
  const rows = await q.query<{ case_id: string }>("SELECT case_id FROM eval_case_results WHERE run_id = $1", [
    runId,
  ]);
  return new Set(rows.map((r) => r.case_id));
}

export async function caseResults(
  q: Queryable,
  runId: string,
  page: { after?: number; limit?: number } = {},
): Promise<(CaseRow & { seq: number })[]> {
  const rows = await q.query<Row>(
    `SELECT * FROM eval_case_results WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    [runId, page.after ?? 0, page.limit ?? 1_000_000],
  );
  return rows.map((r) => ({
    seq: Number(r.seq),
    caseId: r.case_id as string,
    passed: r.passed as boolean,
    score: Number(r.score),
    safetyViolation: r.safety_violation as boolean,
    output: (r.output as string | null) ?? null,
    outputHash: (r.output_hash as string | null) ?? null,
    latencyMs: Number(r.latency_ms),
    tokensIn: Number(r.tokens_in),
    tokensOut: Number(r.tokens_out),
    costUsd: Number(r.cost_usd),
    attempts: Number(r.attempts),
    error: (r.error as string | null) ?? null,
    scorers: r.scorers as CaseRow["scorers"],
    attributes: r.attributes as Record<string, string>,
    recordedAt: iso(r.recorded_at)!,
    route: (r.route as CaseRoute | null) ?? null,
  }));
}
