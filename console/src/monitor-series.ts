/**
 * A monitor as the monitoring page draws it: a rule's judged windows in time order with the band
 * between its baseline and its threshold, the rule's state in words, its title and the unit its
 * values are printed in. Nothing here computes a statistic: every value, baseline, threshold, n
 * and p is the API's, and a window the API gave no number for gets no point.
 */
import type { Client } from "../../src/client/index.ts";

export type MonitorStatusView = Awaited<ReturnType<Client["monitor"]["status"]>>;
export type MonitorRuleView = MonitorStatusView["rules"][number];
export type MonitorWindow = NonNullable<MonitorRuleView["last"]>;
export type WindowStatus = MonitorWindow["status"];

export interface WindowPoint {
  /** The window's start in epoch ms: the chart's time axis. */
  t: number;
  status: WindowStatus;
  value: number | null;
  baseline: number | null;
  threshold: number | null;
  /** From baseline to threshold, the lower end first (the shaded band); null when either is missing. */
  band: [number, number] | null;
  window: MonitorWindow;
}

/**
 * One rule's windows of the version watched, oldest first. The history holds every version's
 * windows; those of an earlier production version were judged against its own baseline, so
 * they are left out. Windows without a time are dropped, never placed.
 */
export function windowPoints(
  windows: readonly (MonitorWindow | null)[],
  rule: string,
  version: string | null,
): WindowPoint[] {
  const points: WindowPoint[] = [];
  for (const w of windows) {
    if (!w || w.rule !== rule || (version !== null && w.version !== version)) continue;
    const t = Date.parse(w.windowStart);
    if (Number.isNaN(t)) continue;
    const band: [number, number] | null =
      w.baseline !== null && w.threshold !== null
        ? [Math.min(w.baseline, w.threshold), Math.max(w.baseline, w.threshold)]
        : null;
    points.push({
      t,
      status: w.status,
      value: w.value,
      baseline: w.baseline,
      threshold: w.threshold,
      band,
      window: w,
    });
  }
  return points.sort((a, b) => a.t - b.t);
}

/** The numbers a chart's value axis must cover: every value, baseline and threshold drawn. */
export function valuesOf(points: readonly WindowPoint[]): number[] {
  return points.flatMap((p) =>
    [p.value, p.baseline, p.threshold].filter(
      (x): x is number => typeof x === "number" && Number.isFinite(x),
    ),
  );
}

/** A rule's state as its badge says it, with the badge's tone. */
export function ruleState(rule: Pick<MonitorRuleView, "state" | "streak" | "windows">): {
  label: string;
  tone: string;
} {
  switch (rule.state) {
    case "breaching":
      return { label: `breaching ${rule.streak} of ${rule.windows}`, tone: "warn" };
    case "firing":
      return { label: "firing", tone: "bad" };
    case "ok":
      return { label: "ok", tone: "ok" };
    default:
      return { label: "pending", tone: "neutral" };
  }
}

/** Badge tones of a window's status. */
export const WINDOW_TONES: Record<WindowStatus, string> = {
  breach: "bad",
  ok: "ok",
  insufficient: "neutral",
};

/** How a rule's values are printed: a share, a score, dollars, milliseconds, a statistic, points. */
export type ValueUnit = "rate" | "score" | "usd" | "ms" | "statistic" | "points" | "tokens";

const METRIC_UNITS: Record<string, ValueUnit> = {
  successRate: "rate",
  errorRate: "rate",
  refusalRate: "rate",
  validityRate: "rate",
  meanScore: "score",
  costPerCall: "usd",
  costPerSuccess: "usd",
  latencyP50: "ms",
  latencyP95: "ms",
  inputTokensPerCall: "tokens",
  outputTokensPerCall: "tokens",
  tokensPerCall: "tokens",
};

export function unitOf(rule: Pick<MonitorRuleView, "kind" | "metric">): ValueUnit {
  if (rule.kind === "drift") return "statistic";
  if (rule.kind === "bias") return "points";
  return (rule.metric && METRIC_UNITS[rule.metric]) || "score";
}

const METRIC_TITLES: Record<string, string> = {
  successRate: "Success rate",
  errorRate: "Error rate",
  refusalRate: "Refusal rate",
  validityRate: "Validity rate",
  meanScore: "Mean score",
  costPerCall: "Cost per call",
  costPerSuccess: "Cost per success",
  latencyP50: "p50 latency",
  latencyP95: "p95 latency",
  inputTokensPerCall: "Input tokens per call",
  outputTokensPerCall: "Output tokens per call",
  tokensPerCall: "Tokens per call",
};

/** The request features in the words the rules use (docs/monitoring.md). */
const FEATURE_TITLES: Record<string, string> = {
  tokens_in: "Input tokens",
  tokens_out: "Output tokens",
  messages: "Messages",
  script: "Script (language)",
  tool_calls: "Tool calls",
  tools_offered: "Tools offered",
  label: "Label",
  finish_reason: "Finish reason",
};

export const STATISTIC_NAMES: Record<string, string> = {
  psi: "PSI",
  jensenShannon: "Jensen-Shannon distance",
  hellinger: "Hellinger distance",
  lInfinity: "L-infinity distance",
  ks: "KS statistic",
};

/** A feature's title: known words, `group:<attribute>` as "Group <attribute>", else its name. */
export function featureTitle(feature: string): string {
  if (FEATURE_TITLES[feature]) return FEATURE_TITLES[feature];
  if (feature.startsWith("group:")) return `Group ${feature.slice("group:".length)}`;
  return feature;
}

/** A rule's panel title: the metric, the drift rule's feature, or the bias gap. */
export function ruleTitle(rule: Pick<MonitorRuleView, "kind" | "metric" | "feature" | "name">): string {
  if (rule.kind === "drift") return rule.feature ? featureTitle(rule.feature) : rule.name;
  if (rule.kind === "bias") return "Bias gap";
  return (rule.metric && METRIC_TITLES[rule.metric]) || rule.name;
}

/** What a rule's value is, for the chart's legend: the metric, or the drift rule's statistic. */
export function valueName(rule: Pick<MonitorRuleView, "kind" | "metric" | "statistic">): string {
  if (rule.kind === "drift") return (rule.statistic && STATISTIC_NAMES[rule.statistic]) || "statistic";
  if (rule.kind === "bias") return "largest group gap";
  return (rule.metric && METRIC_TITLES[rule.metric]?.toLowerCase()) || "value";
}

/**
 * The history query for a rule's recent windows: those ending after `count` windows before its
 * last judged one (the API lists oldest first and stops at its limit, so the start sets which
 * ones come back). A rule with no judged window has no history to ask for.
 */
export function recentQuery(
  rule: Pick<MonitorRuleView, "name" | "lastWindowEnd" | "windowHours">,
  count: number,
): { rule: string; from: string; limit: number } | null {
  if (!rule.lastWindowEnd) return null;
  const end = Date.parse(rule.lastWindowEnd);
  if (Number.isNaN(end)) return null;
  return {
    rule: rule.name,
    from: new Date(end - count * rule.windowHours * 3_600_000).toISOString(),
    limit: count,
  };
}
