/**
 * A retraining task as the console shows it: its states in order (a stepper), the tasks of a
 * model with the active one first, the evidence's windows read out of the monitor's loose
 * record, the evaluation verdict's figures, and which webhook deliveries belong to the task.
 * Nothing here computes a statistic: values, baselines, thresholds, n, p and differences are
 * the API's; only their printing is decided here.
 */
import type { Client } from "../../src/client/index.ts";
import { fmt } from "./components/rollout-kit.tsx";
import {
  featureTitle,
  type MonitorRuleView,
  ruleTitle,
  STATISTIC_NAMES,
  unitOf,
  type ValueUnit,
} from "./monitor-series.ts";

export type TaskDetail = Awaited<ReturnType<Client["retraining"]["get"]>>;
export type TaskView = Awaited<ReturnType<Client["retraining"]["list"]>>["items"][number];
export type TaskState = TaskView["state"];
export type Transition = TaskDetail["history"][number];
export type EvidenceEntry = TaskDetail["evidence"][number];
export type Verdict = NonNullable<TaskView["evaluation"]>;

/** The way a task goes when the retraining happens; `dismissed` leaves it from any state before closed. */
export const PATH = [
  "open",
  "training",
  "candidate_registered",
  "evaluated",
  "approved",
  "rolled_out",
  "closed",
] as const satisfies readonly TaskState[];

export const STATE_LABELS: Record<TaskState, string> = {
  open: "open",
  training: "training",
  candidate_registered: "candidate registered",
  evaluated: "evaluated",
  approved: "approved",
  rolled_out: "rolled out",
  closed: "closed",
  dismissed: "dismissed",
};

/** Badge tones: an open task waits for someone; the moves in between are under way; the ends are calm. */
export const STATE_TONES: Record<TaskState, string> = {
  open: "bad",
  training: "info",
  candidate_registered: "info",
  evaluated: "info",
  approved: "info",
  rolled_out: "ok",
  closed: "ok",
  dismissed: "neutral",
};

export const isActive = (s: TaskState) => s !== "closed" && s !== "dismissed";

export interface Step {
  state: TaskState;
  /** done: passed through; current: where the task is (or was, when dismissed); ahead: not reached. */
  status: "done" | "current" | "ahead";
  /** The latest move into this state, for a step done or current. */
  move: Transition | null;
}

/**
 * The stepper: every state of the path with where the task is, and after them the dismissal
 * when there was one (the step the task was dismissed from is then the last one done). A new
 * candidate sends a task back to candidate_registered: the steps after it are ahead again.
 */
export function stepsOf(task: { state: TaskState; history: readonly Transition[] }): Step[] {
  const latestInto = (s: TaskState): Transition | null =>
    [...task.history].reverse().find((t) => t.to === s) ?? null;
  const dismissal = task.state === "dismissed" ? latestInto("dismissed") : null;
  const reached: TaskState | null =
    task.state === "dismissed" ? (dismissal?.from ?? null) : (task.state as TaskState);
  const at = reached === null ? -1 : PATH.indexOf(reached as (typeof PATH)[number]);
  const steps: Step[] = PATH.map((state, i) => {
    const status: Step["status"] =
      i < at || (i === at && dismissal) ? "done" : i === at ? "current" : "ahead";
    return { state, status, move: status === "ahead" ? null : latestInto(state) };
  });
  if (task.state === "dismissed") steps.push({ state: "dismissed", status: "current", move: dismissal });
  return steps;
}

/** A model's tasks: the active ones first (one at most, by the API's rule), then newest first. */
export function sortTasks<T extends Pick<TaskView, "state" | "openedAt" | "id">>(tasks: readonly T[]): T[] {
  return [...tasks].sort(
    (a, b) =>
      Number(isActive(b.state)) - Number(isActive(a.state)) ||
      b.openedAt.localeCompare(a.openedAt) ||
      b.id.localeCompare(a.id),
  );
}

/** One window of a monitor's evidence, as far as the record holds it (its fields are kept as sent). */
export interface EvidenceWindow {
  from: string;
  to: string;
  value: number | null;
  baseline: number | null;
  threshold: number | null;
  n: number | null;
  p: number | null;
  breached: boolean;
  reason: string | null;
}

const num = (x: unknown): number | null => (typeof x === "number" && Number.isFinite(x) ? x : null);
const str = (x: unknown): string | null => (typeof x === "string" && x !== "" ? x : null);
const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);

/** The windows of an evidence record, oldest first; an entry without its times is left out. */
export function windowsOf(evidence: Record<string, unknown>): EvidenceWindow[] {
  const raw = Array.isArray(evidence.windows) ? evidence.windows : [];
  const out: EvidenceWindow[] = [];
  for (const w of raw) {
    if (!isRecord(w)) continue;
    const from = str(w.from);
    const to = str(w.to);
    if (!from || !to || Number.isNaN(Date.parse(from))) continue;
    out.push({
      from,
      to,
      value: num(w.value),
      baseline: num(w.baseline),
      threshold: num(w.threshold),
      n: num(w.n),
      p: num(w.p),
      breached: w.breached === true,
      reason: str(w.reason),
    });
  }
  return out.sort((a, b) => Date.parse(a.from) - Date.parse(b.from));
}

/** The test the evidence names (`test: { name }` as an outside monitor sends it), if any. */
export function testOf(evidence: Record<string, unknown>): string | null {
  const t = evidence.test;
  return str(t) ?? (isRecord(t) ? str(t.name) : null);
}

type RuleKind = MonitorRuleView["kind"];
/** success_rate (as an outside monitor may write it) → successRate (as the monitors do). */
const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * What a task's metric is: a monitor's subject (`successRate`, `psi:tokens_in`, `bias`), or the
 * snake_case name an outside monitor reports; the evidence's `kind` when it gives one.
 */
function kindOf(metric: string, kind?: unknown): RuleKind {
  if (kind === "metric" || kind === "drift" || kind === "bias") return kind;
  if (metric.includes(":")) return "drift";
  return metric === "bias" ? "bias" : "metric";
}

export function evidenceUnit(metric: string, kind?: unknown): ValueUnit {
  return unitOf({ kind: kindOf(metric, kind), metric: camel(metric) as MonitorRuleView["metric"] });
}

/** The metric in words: `Success rate`, `PSI of Input tokens`, `Bias gap`, else its name. */
export function metricTitle(metric: string, kind?: unknown): string {
  const k = kindOf(metric, kind);
  if (k === "drift") {
    const [statistic = "", feature = metric] = metric.split(":");
    return `${STATISTIC_NAMES[statistic] ?? statistic} of ${featureTitle(feature)}`;
  }
  return ruleTitle({
    kind: k,
    metric: camel(metric) as MonitorRuleView["metric"],
    feature: null,
    name: metric,
  });
}

const TEST_NAMES: Record<Verdict["test"], string> = {
  mcnemar_exact: "exact McNemar test",
  paired_t: "paired t-test",
};

const BASIS_NAMES: Record<Verdict["basis"], string> = {
  pass_rate: "pass rate",
  score: "mean score",
  latency_ms: "latency",
  cost_usd: "cost",
};

/** The verdict's figures as printed: each side's value, the difference, the test, p. */
export function verdictFigures(v: Verdict) {
  const value = (x: number | null) =>
    v.basis === "pass_rate"
      ? fmt.pct(x)
      : v.basis === "latency_ms"
        ? fmt.ms(x)
        : v.basis === "cost_usd"
          ? fmt.usd(x)
          : fmt.num(x, 3);
  const d = v.difference;
  const sign = d === null ? "" : d > 0 ? "+" : d < 0 ? "−" : "±";
  const difference =
    d === null
      ? "–"
      : v.basis === "pass_rate"
        ? `${sign}${Math.abs(d * 100).toFixed(1)} pts`
        : `${sign}${value(Math.abs(d)).replace(/^-/, "")}`;
  return {
    basis: BASIS_NAMES[v.basis],
    candidate: value(v.candidate.value),
    production: value(v.production.value),
    difference,
    test: TEST_NAMES[v.test],
    p: fmt.p(v.p),
    better: v.direction === "higher_is_better" ? "higher is better" : "lower is better",
  };
}

/** Whether a webhook subscribed to these event types receives this action (`*`, `retraining.*`, exact). */
export function subscribes(eventTypes: readonly string[], action: string): boolean {
  return eventTypes.some(
    (p) => p === "*" || p === action || (p.endsWith(".*") && action.startsWith(p.slice(0, -1))),
  );
}

/** The deliveries of the task's own audit events, newest event first. */
export function deliveriesOf<D extends { auditId: string; seq: number }>(
  deliveries: readonly D[],
  auditIds: ReadonlySet<string>,
): D[] {
  return deliveries.filter((d) => auditIds.has(d.auditId)).sort((a, b) => b.seq - a.seq);
}
