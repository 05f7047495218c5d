import type { Plan } from "../../engines/rollout/types.ts";
import type { Queryable } from "../../store/db.ts";

export type RolloutStatus = "running" | "paused" | "promoted" | "rolled_back" | "aborted";
export const ACTIVE: readonly RolloutStatus[] = ["running", "paused"];

export interface RolloutRow {
  id: string;
  modelId: string;
  model: string;
  candidateVersionId: string;
  candidate: string;
  baselineVersionId: string;
  baseline: string;
  planName: string;
  plan: Plan;
  status: RolloutStatus;
  stepIndex: number;
  stepStartedAt: Date;
  weight: number;
  consecutiveFailures: number;
  pausedReason: string | null;
  nextAnalysisAt: Date;
  lastDecision: unknown;
  startedAt: Date;
  endedAt: Date | null;
  startedBy: string;
  /** canary: served traffic moves step by step; blue_green: judged on mirrored traffic, then switched at once. */
  mode: "canary" | "blue_green";
}

const COLS = `r.id, r.model_id, m.name AS model, r.candidate_version_id, c.version AS candidate,
  r.baseline_version_id, b.version AS baseline, r.plan_name, r.plan, r.status, r.step_index,
  r.step_started_at, r.weight, r.consecutive_failures, r.paused_reason, r.next_analysis_at,
  r.last_decision, r.started_at, r.ended_at, r.started_by, r.mode`;
const FROM = `rollouts r JOIN models m ON m.id = r.model_id
  JOIN model_versions c ON c.id = r.candidate_version_id
  JOIN model_versions b ON b.id = r.baseline_version_id`;

function toRow(r: Record<string, unknown>): RolloutRow {
  return {
    id: r.id as string,
    modelId: r.model_id as string,
    model: r.model as string,
    candidateVersionId: r.candidate_version_id as string,
    candidate: r.candidate as string,
    baselineVersionId: r.baseline_version_id as string,
    baseline: r.baseline as string,
    planName: r.plan_name as string,
    plan: r.plan as Plan,
    status: r.status as RolloutStatus,
    stepIndex: r.step_index as number,
    stepStartedAt: new Date(r.step_started_at as string),
    weight: Number(r.weight),
    consecutiveFailures: r.consecutive_failures as number,
    pausedReason: (r.paused_reason as string | null) ?? null,
    nextAnalysisAt: new Date(r.next_analysis_at as string),
    lastDecision: r.last_decision ?? null,
    startedAt: new Date(r.started_at as string),
    endedAt: r.ended_at ? new Date(r.ended_at as string) : null,
    startedBy: r.started_by as string,
    mode: (r.mode as RolloutRow["mode"]) ?? "canary",
  };
}

/** The model's active rollout (running or paused), locked for update when `lock`. */
export async function activeRollout(q: Queryable, modelId: string, lock = false): Promise<RolloutRow | null> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT ${COLS} FROM ${FROM} WHERE r.model_id = $1 AND r.status IN ('running', 'paused')${lock ? " FOR UPDATE OF r" : ""}`,
    [modelId],
  );
  return rows[0] ? toRow(rows[0]) : null;
}

export async function rolloutById(q: Queryable, id: string, lock = false): Promise<RolloutRow | null> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT ${COLS} FROM ${FROM} WHERE r.id = $1${lock ? " FOR UPDATE OF r" : ""}`,
    [id],
  );
  return rows[0] ? toRow(rows[0]) : null;
}

export async function rolloutsOf(q: Queryable, modelId: string, limit: number): Promise<RolloutRow[]> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT ${COLS} FROM ${FROM} WHERE r.model_id = $1 ORDER BY r.started_at DESC, r.id DESC LIMIT $2`,
    [modelId, limit],
  );
  return rows.map(toRow);
}

/** The model's latest rollout of a candidate version (whatever its status), or null. */
export async function latestRolloutOf(
  q: Queryable,
  modelId: string,
  candidate: string,
): Promise<RolloutRow | null> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT ${COLS} FROM ${FROM} WHERE r.model_id = $1 AND c.version = $2
      ORDER BY r.started_at DESC, r.id DESC LIMIT 1`,
    [modelId, candidate],
  );
  return rows[0] ? toRow(rows[0]) : null;
}

export async function activeRollouts(q: Queryable): Promise<RolloutRow[]> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT ${COLS} FROM ${FROM} WHERE r.status IN ('running', 'paused')`,
  );
  return rows.map(toRow);
}

export interface DecisionRow {
  at: Date;
  decision: string;
  stepIndex: number;
  weightBefore: number;
  weightAfter: number;
  reasons: string[];
  analysis: unknown;
  actor: string;
}

/** The decision that moved a rollout past `fromStep` (an advance), or null. */
export async function advanceFrom(
  q: Queryable,
  rolloutId: string,
  fromStep: number,
): Promise<DecisionRow | null> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT at, decision, step_index, weight_before, weight_after, reasons, analysis, actor
       FROM rollout_decisions WHERE rollout_id = $1 AND decision = 'advance' AND step_index = $2
      ORDER BY id DESC LIMIT 1`,
    [rolloutId, fromStep],
  );
  return rows[0] ? decisionRow(rows[0]) : null;
}

export async function decisionsOf(q: Queryable, rolloutId: string, limit: number): Promise<DecisionRow[]> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT at, decision, step_index, weight_before, weight_after, reasons, analysis, actor
       FROM rollout_decisions WHERE rollout_id = $1 ORDER BY id DESC LIMIT $2`,
    [rolloutId, limit],
  );
  return rows.map(decisionRow);
}

function decisionRow(r: Record<string, unknown>): DecisionRow {
  return {
    at: new Date(r.at as string),
    decision: r.decision as string,
    stepIndex: r.step_index as number,
    weightBefore: Number(r.weight_before),
    weightAfter: Number(r.weight_after),
    reasons: r.reasons as string[],
    analysis: r.analysis ?? null,
    actor: r.actor as string,
  };
}

/** Plans saved from modelgov.yaml, by name. */
export async function storedPlans(q: Queryable): Promise<Record<string, Plan>> {
  const rows = await q.query<{ name: string; plan: Plan }>(
    "SELECT name, plan FROM rollout_plans ORDER BY name",
  );
  return Object.fromEntries(rows.map((r) => [r.name, { ...r.plan, name: r.name }]));
}

export async function savePlan(q: Queryable, plan: Plan, at: Date): Promise<void> {
  await q.query(
    `INSERT INTO rollout_plans (name, plan, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET plan = EXCLUDED.plan, updated_at = EXCLUDED.updated_at`,
    [plan.name, JSON.stringify(plan), at.toISOString()],
  );
}
