import type { ExperimentMetric, ExperimentResults, Guardrail } from "../../engines/experiments/index.ts";
import type { Queryable } from "../../store/db.ts";
import type { RouterPaths } from "../request-log/index.ts";

export type ExperimentStatus = "running" | "stopped" | "completed";

export interface ArmConfig {
  name: string;
  version: string;
  versionId: string;
  /** Percent of the model's traffic; the arms add up to 100. */
  weight: number;
}

/** One look at an experiment: when, how long it had run, and the engine's answer. */
export interface Look {
  at: string;
  elapsedMs: number;
  results: ExperimentResults;
  /**
   * Arms that are router versions: success and cost per success by path since the start
   * (absent in looks recorded before paths were counted).
   */
  paths?: ArmPaths[];
}

/** One router arm's paths (request-log's RouterPaths, with the arm's name). */
export type ArmPaths = RouterPaths & { arm: string };

export interface ExperimentRow {
  id: string;
  modelId: string;
  model: string;
  name: string;
  /** The first arm is the control. */
  arms: ArmConfig[];
  primary: "success_rate" | "score_mean";
  secondary: ExperimentMetric[];
  guardrails: Guardrail[];
  minSamplePerArm: number;
  minDurationMs: number;
  plannedSamplePerArm: number;
  baselineRate: number | null;
  scoreVariance: number | null;
  alpha: number;
  status: ExperimentStatus;
  stopReason: string | null;
  startedAt: Date;
  endedAt: Date | null;
  startedBy: string;
  lastResults: Look | null;
}

const COLS = `e.id, e.model_id, m.name AS model, e.name, e.arms, e.primary_metric, e.secondary_metrics,
  e.guardrails, e.min_sample_per_arm, e.min_duration_ms, e.planned_sample_per_arm, e.baseline_rate,
  e.score_variance, e.alpha, e.status, e.stop_reason, e.started_at, e.ended_at, e.started_by, e.last_results`;
const FROM = "experiments e JOIN models m ON m.id = e.model_id";

const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toRow(r: Record<string, unknown>): ExperimentRow {
  return {
    id: r.id as string,
    modelId: r.model_id as string,
    model: r.model as string,
    name: r.name as string,
    arms: r.arms as ArmConfig[],
    primary: r.primary_metric as ExperimentRow["primary"],
    secondary: r.secondary_metrics as ExperimentMetric[],
    guardrails: r.guardrails as Guardrail[],
    minSamplePerArm: Number(r.min_sample_per_arm),
    minDurationMs: Number(r.min_duration_ms),
    plannedSamplePerArm: Number(r.planned_sample_per_arm),
    baselineRate: numOrNull(r.baseline_rate),
    scoreVariance: numOrNull(r.score_variance),
    alpha: Number(r.alpha),
    status: r.status as ExperimentStatus,
    stopReason: (r.stop_reason as string | null) ?? null,
    startedAt: new Date(r.started_at as string),
    endedAt: r.ended_at ? new Date(r.ended_at as string) : null,
    startedBy: r.started_by as string,
    lastResults: (r.last_results as Look | null) ?? null,
  };
}

export type NewExperiment = Omit<
  ExperimentRow,
  "model" | "status" | "stopReason" | "endedAt" | "lastResults" | "startedAt"
> & { startedAt: Date };

export async function insertExperiment(q: Queryable, e: NewExperiment): Promise<void> {
  await q.query(
    `INSERT INTO experiments (id, model_id, name, arms, primary_metric, secondary_metrics, guardrails,
       min_sample_per_arm, min_duration_ms, planned_sample_per_arm, baseline_rate, score_variance, alpha,
       status, started_at, started_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'running', $14, $15)`,
    [
      e.id,
      e.modelId,
      e.name,
      JSON.stringify(e.arms),
      e.primary,
      JSON.stringify(e.secondary),
      JSON.stringify(e.guardrails),
      e.minSamplePerArm,
      e.minDurationMs,
      e.plannedSamplePerArm,
      e.baselineRate,
      e.scoreVariance,
      e.alpha,
      e.startedAt.toISOString(),
      e.startedBy,
    ],
  );
}

/** The model's running experiment, locked for update when `lock`. */
export async function runningExperiment(q: Queryable, modelId: string, lock = false) {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT ${COLS} FROM ${FROM} WHERE e.model_id = $1 AND e.status = 'running'${lock ? " FOR UPDATE OF e" : ""}`,
    [modelId],
  );
  return rows[0] ? toRow(rows[0]) : null;
}

export async function experimentById(q: Queryable, id: string, lock = false) {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT ${COLS} FROM ${FROM} WHERE e.id = $1${lock ? " FOR UPDATE OF e" : ""}`,
    [id],
  );
  return rows[0] ? toRow(rows[0]) : null;
}

/** The model's most recently started experiment. */
export async function latestExperiment(q: Queryable, modelId: string) {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT ${COLS} FROM ${FROM} WHERE e.model_id = $1 ORDER BY e.started_at DESC, e.id DESC LIMIT 1`,
    [modelId],
  );
  return rows[0] ? toRow(rows[0]) : null;
}

export async function runningExperiments(q: Queryable): Promise<ExperimentRow[]> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT ${COLS} FROM ${FROM} WHERE e.status = 'running'`,
  );
  return rows.map(toRow);
}

export async function nameTaken(q: Queryable, modelId: string, name: string): Promise<boolean> {
  const rows = await q.query("SELECT 1 FROM experiments WHERE model_id = $1 AND name = $2", [modelId, name]);
  return rows.length > 0;
}

export async function saveLook(q: Queryable, id: string, look: Look): Promise<void> {
  await q.query("UPDATE experiments SET last_results = $2 WHERE id = $1", [id, JSON.stringify(look)]);
}

export async function endExperiment(
  q: Queryable,
  id: string,
  status: Exclude<ExperimentStatus, "running">,
  reason: string,
  at: Date,
): Promise<void> {
  await q.query("UPDATE experiments SET status = $2, stop_reason = $3, ended_at = $4 WHERE id = $1", [
    id,
    status,
    reason,
    at.toISOString(),
  ]);
}

/** Whether a rollout is running or paused on the model (its split would fight the experiment's). */
export async function rolloutActive(q: Queryable, modelId: string): Promise<boolean> {
  const rows = await q.query(
    "SELECT 1 FROM rollouts WHERE model_id = $1 AND status IN ('running', 'paused') LIMIT 1",
    [modelId],
  );
  return rows.length > 0;
}
