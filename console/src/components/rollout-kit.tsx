/**
 * What the rollout and experiment pages share: the API's shapes, readers for the untyped parts
 * of them (a decision's `analysis`), number formats and the charts' look. Nothing here computes
 * a statistic: every figure drawn or printed is one the API gave.
 */
import type { ReactNode } from "react";
import type { RolloutApiView } from "../../../src/client/index.ts";
import { ApiError, type Client } from "../../../src/client/index.ts";
import type { MetricResult, Plan, StepVerdict } from "../../../src/engines/rollout/types.ts";
import { formatClock } from "../time.ts";

export type Rollout = RolloutApiView;
export type RolloutDecision = RolloutApiView["decisions"][number];
export type { MetricResult, Plan };

/** A scheduled analysis: the judge's verdict and every metric's numbers. */
export interface JudgeAnalysis {
  verdict: StepVerdict;
  metrics: MetricResult[];
}

/** A rollback by the fast path, between analyses. */
export interface FastPathAnalysis {
  rollback: boolean;
  reason: string;
  errorRate: number | null;
  windowMs: number;
  requests: number;
  errors: number;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null;

/** The judge's analysis a decision carries, if it carries one (start, pause, resume and operators' moves do not). */
export function judgeAnalysis(a: unknown): JudgeAnalysis | null {
  if (!isObject(a) || typeof a.verdict !== "string" || !Array.isArray(a.metrics)) return null;
  return a as unknown as JudgeAnalysis;
}

export function fastPathAnalysis(a: unknown): FastPathAnalysis | null {
  return isObject(a) && isObject(a.fastPath) ? (a.fastPath as unknown as FastPathAnalysis) : null;
}

/** A number from a metric's `numbers`, or null when the judge gave none (too little data). */
export function numberOf(m: MetricResult | undefined, key: string): number | null {
  const v = m?.numbers[key];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** The plan's own words for a metric, e.g. `{ kind: "error_rate", max: 0.05 }`. */
export function planMetric(plan: unknown, kind: string): Record<string, unknown> | null {
  if (!isObject(plan) || !Array.isArray(plan.metrics)) return null;
  return (plan.metrics as unknown[]).find((m) => isObject(m) && m.kind === kind) as Record<
    string,
    unknown
  > | null;
}

export function planSteps(plan: unknown): { weight: number; durationMs: number; pause?: boolean }[] {
  return isObject(plan) && Array.isArray(plan.steps) ? (plan.steps as never) : [];
}

/** Resolves to null on a 404 (nothing yet), else rethrows. */
export function orNone<T>(p: Promise<T>): Promise<T | null> {
  return p.catch((err: unknown) => {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  });
}

/**
 * A model's rollout or experiment, or null when it never had one. An unknown model is an error
 * (the 404 of the model's own lookup), not "nothing yet".
 */
export async function noneOrModelMissing<T>(c: Client, model: string, p: Promise<T>): Promise<T | null> {
  const r = await orNone(p);
  if (r === null) await c.models.get(model);
  return r;
}

// ------------------------------------------------------------------ formats (display only)

export const fmt = {
  pct: (x: number | null | undefined, digits = 1) => (x == null ? "–" : `${(x * 100).toFixed(digits)}%`),
  signedPct: (x: number | null | undefined, digits = 1) =>
    x == null ? "–" : `${x > 0 ? "+" : x < 0 ? "−" : ""}${Math.abs(x * 100).toFixed(digits)}%`,
  ms: (x: number | null | undefined) => (x == null ? "–" : `${Math.round(x).toLocaleString("en-US")} ms`),
  usd: (x: number | null | undefined) => (x == null ? "–" : `$${Number(x.toPrecision(4))}`),
  num: (x: number | null | undefined, digits = 1) =>
    x == null ? "–" : x.toLocaleString("en-US", { maximumFractionDigits: digits }),
  points: (x: number | null | undefined) => (x == null ? "–" : `${x.toFixed(1)} pts`),
  p: (p: number | null | undefined) =>
    p == null ? "–" : p === 0 ? "0" : p >= 0.001 ? p.toFixed(3) : p.toExponential(1),
  duration: (ms: number) => {
    if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))} s`;
    const minutes = Math.floor(ms / 60_000);
    if (minutes < 60) return `${minutes} min`;
    const h = Math.floor(minutes / 60);
    return minutes % 60 === 0 ? `${h} h` : `${h} h ${minutes % 60} min`;
  },
};

const TICK_STEPS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
].map((s) => s * 1000);

/** Round clock times for a time axis from `min` to `max` (epoch ms): about `count` of them. */
export function timeTicks(min: number, max: number, count = 6): number[] {
  if (!(max > min)) return [min];
  const step =
    TICK_STEPS.find((s) => (max - min) / s <= count) ??
    Math.ceil((max - min) / count / 86_400_000) * 86_400_000;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max; t += step) ticks.push(t);
  return ticks;
}

// ------------------------------------------------------------------ the charts' look

/** Mid-tone colours that read on the light and the dark palette alike. */
export const COLORS = {
  candidate: "#2f6fe0",
  baseline: "#8a94a6",
  limit: "#d0453a",
  ok: "#23955a",
  bad: "#d0453a",
  neutral: "#8a94a6",
  series: ["#2f6fe0", "#d9822b", "#23955a", "#9b59b6", "#16a2b8", "#c2417a"],
};

export const TOOLTIP_STYLE = {
  contentStyle: {
    background: "var(--surface)",
    border: "1px solid var(--border)",
    borderRadius: 6,
    color: "var(--text)",
    fontSize: "0.85rem",
  },
  labelStyle: { color: "var(--text)", fontWeight: 600 },
  itemStyle: { padding: 0 },
};

/** Axes: tick labels in the muted text colour (recharts fills them with the axis' stroke), lines in the border colour. */
export const AXIS = {
  stroke: "var(--muted)",
  axisLine: { stroke: "var(--border)" },
  tick: { fontSize: 12 },
  tickLine: false,
};

/** A chart with a caption that says what it shows (charts are also summarised in text beside them). */
export function Figure({ caption, children }: { caption: ReactNode; children: ReactNode }) {
  return (
    <figure className="re-figure">
      {children}
      <figcaption className="muted small">{caption}</figcaption>
    </figure>
  );
}

/** Badge tones for the words the rollout and experiment APIs use. */
export const TONES: Record<string, string> = {
  pass: "ok",
  fail: "bad",
  inconclusive: "warn",
  insufficient_data: "neutral",
  start: "info",
  advance: "info",
  hold: "neutral",
  pause: "warn",
  resume: "info",
  promote: "ok",
  rollback: "bad",
  abort: "bad",
  ok: "ok",
  at_risk: "warn",
  breached: "bad",
  mismatch: "bad",
  ship: "ok",
  keep_running: "info",
  no_difference: "neutral",
  stopped_by_guardrail: "bad",
  sample_ratio_mismatch: "bad",
  stopped: "neutral",
  better: "ok",
  worse: "bad",
  none: "neutral",
};

export const METRIC_LABELS: Record<string, string> = {
  success_rate: "Success rate",
  score_mean: "Mean score",
  error_rate: "Error rate",
  latency_p95_ms: "p95 latency",
  cost_per_request_usd: "Cost per request",
  group_success_gap: "Group success gap",
  agreement: "Agreement",
};

/** A moment with seconds (decisions come every few seconds); the date too when not today. */
export function Clock({ at }: { at: string }) {
  return (
    <time dateTime={at} title={at}>
      {formatClock(at)}
    </time>
  );
}
