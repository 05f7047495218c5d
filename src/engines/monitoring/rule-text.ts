// Rules in the words teams write them:
//
//   success rate drops >10% from baseline for >5 consecutive days
//   success rate for region=eu drops 5 points from baseline for 3 days
//   error rate rises by more than 2 points from baseline for 3 days
//   p95 latency rises >20% from baseline for 2 hours
//   output tokens per call rises >30% from baseline for 3 days
//   PSI of input tokens > 0.2 for 3 days
//   bias gap over the gate for 2 days
//
// ">5 days" means more than five: the rule fires on the sixth consecutive breaching day;
// "5 days" and "at least 5 days" fire on the fifth. "%" is relative to the baseline, "points"
// (or "pp") is absolute on a rate, "ms" absolute on latency. The window is the unit named:
// a day (UTC) or an hour; "tokens" absolute on tokens per call.

import {
  type DriftStatistic,
  type MetricName,
  type MetricRule,
  type MonitorRule,
  RATE_METRICS,
  TOKEN_METRICS,
} from "./types.ts";

export const RULE_DEFAULTS = { alpha: 0.05, minSample: 100 } as const;

/**
 * The rules a monitor gets when it names none: quality, errors, latency and the two input
 * and output size features. Their false-alarm rate and time to detect are measured by
 * `npm run bench:monitor` (docs/monitoring.md).
 */
export const DEFAULT_RULES = [
  "success rate drops >10% from baseline for 3 consecutive days",
  "error rate rises by more than 2 points from baseline for 2 consecutive days",
  "p95 latency rises >25% from baseline for 3 consecutive days",
  "PSI of input tokens > 0.2 for 3 days",
  "PSI of output tokens > 0.2 for 3 days",
] as const;

export class RuleTextError extends Error {}

const METRIC_WORDS: Record<string, MetricName> = {
  "success rate": "successRate",
  success: "successRate",
  "error rate": "errorRate",
  errors: "errorRate",
  "refusal rate": "refusalRate",
  refusals: "refusalRate",
  "validity rate": "validityRate",
  "output validity": "validityRate",
  "valid output rate": "validityRate",
  "mean score": "meanScore",
  score: "meanScore",
  quality: "meanScore",
  "cost per call": "costPerCall",
  "cost per request": "costPerCall",
  "cost per success": "costPerSuccess",
  "p50 latency": "latencyP50",
  "latency p50": "latencyP50",
  "median latency": "latencyP50",
  "p95 latency": "latencyP95",
  "latency p95": "latencyP95",
  "tokens per call": "tokensPerCall",
  "tokens per request": "tokensPerCall",
  "input tokens per call": "inputTokensPerCall",
  "input tokens per request": "inputTokensPerCall",
  "prompt tokens per call": "inputTokensPerCall",
  "output tokens per call": "outputTokensPerCall",
  "output tokens per request": "outputTokensPerCall",
  "completion tokens per call": "outputTokensPerCall",
};

const STAT_WORDS: Record<string, DriftStatistic> = {
  psi: "psi",
  "jensen-shannon": "jensenShannon",
  "jensen-shannon distance": "jensenShannon",
  js: "jensenShannon",
  hellinger: "hellinger",
  "hellinger distance": "hellinger",
  linf: "lInfinity",
  "l-infinity": "lInfinity",
  ks: "ks",
  "ks statistic": "ks",
};

const FEATURE_WORDS: Record<string, string> = {
  "input tokens": "tokens_in",
  "prompt tokens": "tokens_in",
  "output tokens": "tokens_out",
  "completion tokens": "tokens_out",
  messages: "messages",
  "message count": "messages",
  turns: "messages",
  language: "script",
  script: "script",
  "tool calls": "tool_calls",
  "tool use": "tools_offered",
  tools: "tools_offered",
  label: "label",
  "output label": "label",
  "finish reason": "finish_reason",
};

const wordsOf = (table: Record<string, string>) =>
  Object.keys(table)
    .sort((a, b) => b.length - a.length)
    .map((w) => w.replace(/[-]/g, "\\-"))
    .join("|");

const DURATION = String.raw`(?:for\s+(?<more>>|more than\s+|over\s+|at least\s+|>=\s*)?(?<count>\d+)\s+(?:consecutive\s+)?(?<unit>days?|hours?|windows?))`;
const METRIC_RE = new RegExp(
  String.raw`^(?<metric>${wordsOf(METRIC_WORDS)})(?:\s+(?:for|in|of)\s+(?:group\s+)?(?<attr>[a-z0-9_]+)\s*[=:]\s*(?<val>[^\s]+))?\s+(?<dir>drops|falls|decreases|rises|grows|increases)\s+(?:by\s+)?(?:>\s*|more than\s+|over\s+)?(?<x>\d+(?:\.\d+)?)\s*(?<kind>%|percent|points?|pp|ms|tokens?)\s+(?:from|over|below|above|vs\.?|versus)\s+(?:the\s+)?baseline(?:\s+${DURATION})?$`,
  "i",
);
const DRIFT_RE = new RegExp(
  String.raw`^(?<stat>${wordsOf(STAT_WORDS)})\s+(?:of|on)\s+(?<feature>.+?)\s+(?:>|is above|above|exceeds|over)\s*(?<t>\d+(?:\.\d+)?)(?:\s+${DURATION})?$`,
  "i",
);
const BIAS_RE = new RegExp(
  String.raw`^bias gap (?:is\s+)?(?:over|above|past) the gate(?:\s+${DURATION})?$`,
  "i",
);

/** The feature name a rule's words refer to: known words, `group <attr>`, or the name itself. */
export function featureName(words: string): string {
  const w = words.trim().toLowerCase();
  if (FEATURE_WORDS[w]) return FEATURE_WORDS[w];
  const group = /^(?:group|groups)[\s:.]+([a-z0-9_]+)$/.exec(w);
  if (group) return `group:${group[1]}`;
  if (/^[a-z0-9_:.-]+$/.test(w)) return w;
  throw new RuleTextError(
    `unknown feature "${words}" (e.g. input tokens, output tokens, messages, script, tool calls, label, group <attribute>)`,
  );
}

function duration(groups: Record<string, string | undefined>): { windows: number; windowHours: number } {
  if (groups.count === undefined) return { windows: 1, windowHours: 24 };
  const count = Number(groups.count);
  const more = groups.more?.trim();
  const strictlyMore = more === ">" || more === "more than" || more === "over";
  const windows = strictlyMore ? count + 1 : count;
  if (!(windows >= 1)) throw new RuleTextError("the number of windows must be at least 1");
  const windowHours = /^hour/i.test(groups.unit ?? "") ? 1 : 24;
  return { windows, windowHours };
}

/** Parses a rule written in words; `name` defaults to a slug of the text. */
export function parseRuleText(text: string, name?: string): MonitorRule {
  const t = text.trim().replace(/\s+/g, " ");
  const base = { name: name ?? slug(t), text: t, ...RULE_DEFAULTS };
  const m = METRIC_RE.exec(t);
  if (m?.groups) {
    const g = m.groups;
    const metric = METRIC_WORDS[g.metric!.toLowerCase()]!;
    const direction: MetricRule["direction"] = /drops|falls|decreases/i.test(g.dir!) ? "drop" : "rise";
    const kind = g.kind!.toLowerCase();
    const x = Number(g.x);
    const isRate = (RATE_METRICS as readonly string[]).includes(metric);
    const isLatency = metric === "latencyP50" || metric === "latencyP95";
    const isTokens = (TOKEN_METRICS as readonly string[]).includes(metric);
    let changeKind: MetricRule["changeKind"];
    let change: number;
    if (kind === "%" || kind === "percent") {
      changeKind = "relative";
      change = x / 100;
    } else if (kind === "ms") {
      if (!isLatency) throw new RuleTextError(`"ms" applies to latency only, not ${g.metric}`);
      changeKind = "absolute";
      change = x;
    } else if (kind === "token" || kind === "tokens") {
      if (!isTokens) throw new RuleTextError(`"tokens" applies to tokens per call only, not ${g.metric}`);
      changeKind = "absolute";
      change = x;
    } else {
      if (!isRate)
        throw new RuleTextError(
          `"points" apply to rates only (success, error, refusal, validity), not ${g.metric}`,
        );
      changeKind = "absolute";
      change = x / 100;
    }
    if (isLatency && direction === "drop") throw new RuleTextError("latency is watched for rises, not drops");
    if (g.attr && metric !== "successRate")
      throw new RuleTextError(
        "a group is watched for its success rate only (e.g. success rate for region=eu drops …)",
      );
    if (changeKind === "relative" && direction === "drop" && change >= 1)
      throw new RuleTextError("a drop of 100% or more can never be significant; use a smaller change");
    return {
      ...base,
      kind: "metric",
      metric,
      direction,
      change,
      changeKind,
      ...(g.attr ? { group: { attribute: g.attr.toLowerCase(), value: g.val! } } : {}),
      ...duration(g),
    };
  }
  const d = DRIFT_RE.exec(t);
  if (d?.groups) {
    const g = d.groups;
    return {
      ...base,
      kind: "drift",
      statistic: STAT_WORDS[g.stat!.toLowerCase()]!,
      feature: featureName(g.feature!),
      threshold: Number(g.t),
      ...duration(g),
    };
  }
  const b = BIAS_RE.exec(t);
  if (b?.groups) return { ...base, kind: "bias", ...duration(b.groups) };
  throw new RuleTextError(
    `cannot read the rule "${t}": write e.g. "success rate drops >10% from baseline for >5 consecutive days", "PSI of input tokens > 0.2 for 3 days" or "bias gap over the gate for 2 days"`,
  );
}

export function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/>/g, "gt ")
      .replace(/%/g, "pct")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 80) || "rule"
  );
}
