import type { MetricSums, RuleState, WindowVerdict } from "../../engines/monitoring/index.ts";
import { latencyBucket } from "../../engines/rollout/latency.ts";
import type { Queryable } from "../../store/db.ts";
import { numericBin } from "../request-log/index.ts";
import type { MonitorConfig, WindowView } from "./monitoring.schemas.ts";

export const DEFAULT_MODEL = "*";

export async function readConfig(q: Queryable, model: string): Promise<MonitorConfig | null> {
  const rows = await q.query<{ config: MonitorConfig }>("SELECT config FROM monitors WHERE model = $1", [
    model,
  ]);
  return rows[0]?.config ?? null;
}

export async function writeConfig(
  q: Queryable,
  model: string,
  config: MonitorConfig,
  at: Date,
  actor: string,
) {
  await q.query(
    `INSERT INTO monitors (model, config, updated_at, updated_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT (model) DO UPDATE SET config = EXCLUDED.config, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
    [model, JSON.stringify(config), at.toISOString(), actor],
  );
}

export async function deleteConfig(q: Queryable, model: string): Promise<boolean> {
  const rows = await q.query("DELETE FROM monitors WHERE model = $1 RETURNING model", [model]);
  return rows.length > 0;
}

export async function configuredModels(q: Queryable): Promise<string[]> {
  const rows = await q.query<{ model: string }>("SELECT model FROM monitors ORDER BY model");
  return rows.map((r) => r.model);
}

export interface Production {
  modelId: string;
  versionId: string;
  version: string;
  /** When the production alias last moved to this version. */
  since: Date;
}

/**
 * The model's production version and when its current stint began: the latest move of the
 * production alias to it (alias_history is the registry's record of every move).
 */
export async function production(q: Queryable, model: string): Promise<Production | null> {
  const rows = await q.query<{ model_id: string; version_id: string; version: string; since: Date }>(
    `SELECT m.id AS model_id, a.version_id, v.version,
            (SELECT max(h.at) FROM alias_history h
              WHERE h.model_id = m.id AND h.alias = 'production' AND h.version_id = a.version_id) AS since
       FROM models m
       JOIN aliases a ON a.model_id = m.id AND a.alias = 'production'
       JOIN model_versions v ON v.id = a.version_id
      WHERE m.name = $1`,
    [model],
  );
  const r = rows[0];
  if (!r) return null;
  return { modelId: r.model_id, versionId: r.version_id, version: r.version, since: new Date(r.since ?? 0) };
}

/** Every model with a production version (what the workspace default monitor watches). */
export async function modelsInProduction(q: Queryable): Promise<string[]> {
  const rows = await q.query<{ name: string }>(
    `SELECT m.name FROM models m JOIN aliases a ON a.model_id = m.id AND a.alias = 'production' ORDER BY m.name`,
  );
  return rows.map((r) => r.name);
}

interface StateRow {
  rule: string;
  streak: number;
  firing: boolean;
  last_window_end: Date | null;
  fired_at: Date | null;
}

export interface StoredState extends RuleState {
  firedAt: string | null;
}

export async function readStates(
  q: Queryable,
  model: string,
  versionId: string,
): Promise<Map<string, StoredState>> {
  const rows = await q.query<StateRow>(
    "SELECT rule, streak, firing, last_window_end, fired_at FROM monitor_rule_states WHERE model = $1 AND version_id = $2",
    [model, versionId],
  );
  return new Map(
    rows.map((r) => [
      r.rule,
      {
        streak: r.streak,
        firing: r.firing,
        lastWindowEnd: r.last_window_end ? new Date(r.last_window_end).toISOString() : null,
        firedAt: r.fired_at ? new Date(r.fired_at).toISOString() : null,
      },
    ]),
  );
}

export async function writeState(
  q: Queryable,
  model: string,
  versionId: string,
  rule: string,
  s: StoredState,
  at: Date,
) {
  await q.query(
    `INSERT INTO monitor_rule_states (model, version_id, rule, streak, firing, last_window_end, fired_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (model, version_id, rule) DO UPDATE SET streak = EXCLUDED.streak, firing = EXCLUDED.firing,
       last_window_end = EXCLUDED.last_window_end, fired_at = EXCLUDED.fired_at, updated_at = EXCLUDED.updated_at`,
    [model, versionId, rule, s.streak, s.firing, s.lastWindowEnd, s.firedAt, at.toISOString()],
  );
}

/** Inserts a judged window; false when it was judged already (another holder, a replay). */
export async function insertWindow(
  q: Queryable,
  w: { model: string; versionId: string; rule: string; start: Date; end: Date; verdict: WindowVerdict },
  at: Date,
): Promise<boolean> {
  const v = w.verdict;
  const finite = (x: number | null) => (x === null || !Number.isFinite(x) ? null : x);
  const rows = await q.query(
    `INSERT INTO monitor_windows (model, version_id, rule, window_start, window_end, status, value, baseline, threshold, n, p, reason, computed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT DO NOTHING RETURNING rule`,
    [
      w.model,
      w.versionId,
      w.rule,
      w.start.toISOString(),
      w.end.toISOString(),
      v.status,
      finite(v.value),
      finite(v.baseline),
      finite(v.threshold),
      v.n,
      finite(v.p),
      v.reason,
      at.toISOString(),
    ],
  );
  return rows.length > 0;
}

interface WindowRow {
  rule: string;
  version: string;
  window_start: Date;
  window_end: Date;
  status: WindowView["status"];
  value: number | null;
  baseline: number | null;
  threshold: number | null;
  n: string | number;
  p: number | null;
  reason: string;
}

const toView = (r: WindowRow): WindowView => ({
  rule: r.rule,
  version: r.version,
  windowStart: new Date(r.window_start).toISOString(),
  windowEnd: new Date(r.window_end).toISOString(),
  status: r.status,
  value: r.value,
  baseline: r.baseline,
  threshold: r.threshold,
  n: Number(r.n),
  p: r.p,
  reason: r.reason,
});

export async function windows(
  q: Queryable,
  model: string,
  f: { rule?: string; versionId?: string; from?: string; to?: string; limit: number; latestFirst?: boolean },
): Promise<WindowView[]> {
  const rows = await q.query<WindowRow>(
    `SELECT w.rule, coalesce(v.version, w.version_id) AS version, w.window_start, w.window_end, w.status, w.value,
            w.baseline, w.threshold, w.n, w.p, w.reason
       FROM monitor_windows w LEFT JOIN model_versions v ON v.id = w.version_id
      WHERE w.model = $1 AND ($2::text IS NULL OR w.rule = $2) AND ($3::text IS NULL OR w.version_id = $3)
        AND ($4::timestamptz IS NULL OR w.window_end > $4) AND ($5::timestamptz IS NULL OR w.window_start < $5)
      ORDER BY w.window_start ${f.latestFirst ? "DESC" : "ASC"}, w.rule
      LIMIT $6`,
    [model, f.rule ?? null, f.versionId ?? null, f.from ?? null, f.to ?? null, f.limit],
  );
  return rows.map(toView);
}

/** Every rule state of every model's watched version, for the Prometheus gauges. */
export async function allStates(
  q: Queryable,
): Promise<{ model: string; version: string; rule: string; streak: number; firing: boolean }[]> {
  return q.query(
    `SELECT s.model, coalesce(v.version, s.version_id) AS version, s.rule, s.streak, s.firing
       FROM monitor_rule_states s LEFT JOIN model_versions v ON v.id = s.version_id
       JOIN models m ON m.name = s.model
       JOIN aliases a ON a.model_id = m.id AND a.alias = 'production' AND a.version_id = s.version_id
      ORDER BY s.model, s.rule`,
  );
}

/** The version's latest completed evaluation run that finished by `before` (of a suite, if named). */
export async function evaluationRun(
  q: Queryable,
  versionId: string,
  before: Date,
  suite?: string,
): Promise<{ id: string; from: Date; to: Date } | null> {
  const rows = await q.query<{ id: string; created_at: Date; finished_at: Date }>(
    `SELECT id, created_at, finished_at FROM eval_runs
      WHERE version_id = $1 AND status = 'completed' AND finished_at <= $2 AND ($3::text IS NULL OR suite_name = $3)
      ORDER BY finished_at DESC LIMIT 1`,
    [versionId, before.toISOString(), suite ?? null],
  );
  const r = rows[0];
  return r ? { id: r.id, from: new Date(r.created_at), to: new Date(r.finished_at) } : null;
}

/** An evaluation run's cases as a window's sums: each case a judged request (passed = success). */
export async function evaluationSums(
  q: Queryable,
  runId: string,
  group?: { attribute: string; value: string },
): Promise<MetricSums> {
  const rows = await q.query<{
    passed: boolean;
    score: number;
    latency_ms: number;
    tokens_in: number;
    tokens_out: number;
    cost_usd: number;
    error: string | null;
  }>(
    `SELECT passed, score, latency_ms, tokens_in, tokens_out, cost_usd, error FROM eval_case_results
      WHERE run_id = $1 AND ($2::text IS NULL OR attributes->>$2 = $3)`,
    [runId, group?.attribute ?? null, group?.value ?? null],
  );
  const latency: number[] = [];
  const tokenHistograms = { in: {} as Record<string, number>, out: {} as Record<string, number> };
  const s = {
    requests: rows.length,
    errors: 0,
    costUsd: 0,
    costSumSquares: 0,
    latencyHistogram: latency,
    feedbackCount: 0,
    successes: 0,
    scoreCount: 0,
    scoreSum: 0,
    scoreSumSquares: 0,
    refusals: 0,
    validityChecked: 0,
    valid: 0,
    tokensIn: 0,
    tokensOut: 0,
    tokenHistograms,
  };
  for (const r of rows) {
    // Every case counts in the token metrics, as every logged request does.
    s.tokensIn += Number(r.tokens_in);
    s.tokensOut += Number(r.tokens_out);
    const bin = { in: numericBin(Number(r.tokens_in)), out: numericBin(Number(r.tokens_out)) };
    tokenHistograms.in[bin.in] = (tokenHistograms.in[bin.in] ?? 0) + 1;
    tokenHistograms.out[bin.out] = (tokenHistograms.out[bin.out] ?? 0) + 1;
    const b = latencyBucket(Number(r.latency_ms));
    for (let i = latency.length; i <= b; i++) latency.push(0);
    latency[b] = (latency[b] ?? 0) + 1;
    s.costUsd += Number(r.cost_usd);
    s.costSumSquares += Number(r.cost_usd) ** 2;
    if (r.error) {
      s.errors += 1;
      continue;
    }
    s.feedbackCount += 1;
    if (r.passed) s.successes += 1;
    s.scoreCount += 1;
    s.scoreSum += Number(r.score);
    s.scoreSumSquares += Number(r.score) ** 2;
  }
  return s satisfies MetricSums;
}
