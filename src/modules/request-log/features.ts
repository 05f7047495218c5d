import { NUMERIC_BIN_BOUNDS } from "../../engines/monitoring/bins.ts";
import type { SpoolRow } from "../../lib/spool.ts";

/*
 * Features per request: what the gateway derives from a request and its answer (never the
 * prompt or the answer themselves), stored with the request (`request_log.features`, JSONB)
 * and counted per bin in the hourly feature roll-up (`request_feature_rollup_hour`), so that
 * monitors compare input and output distributions without reading raw rows.
 *
 * The binning rules are here, once: the writer's roll-up (rollup.ts) and the raw reads
 * (feature-windows.ts, in SQL) follow them, and the property test holds the two equal.
 */

export type Script =
  | "latin"
  | "cyrillic"
  | "greek"
  | "arabic"
  | "hebrew"
  | "devanagari"
  | "cjk"
  | "hangul"
  | "thai"
  | "other"
  | "none";

/** What `request_log.features` holds. Output fields are null when no version answered. */
export interface RequestFeatures {
  /** Messages in the request, in the canonical (OpenAI) shape: an Anthropic `system` is one. */
  messages: number;
  /** The script most of the last user message's letters are in; `none` without letters. */
  script: Script;
  /** Tools offered with the request (`tools`, and the legacy `functions`); 0 for none. */
  toolsOffered: number;
  /** Tool calls the answer made. */
  toolCalls: number | null;
  /** Whether the answer is a refusal (docs/request-log.md: the heuristic). */
  refusal: boolean | null;
  /**
   * The request asked for JSON (`response_format` json_object or json_schema) and got a text
   * answer: whether it parses (and, for json_schema, satisfies the schema). Null otherwise.
   */
  valid: boolean | null;
  /** A classifier-like answer: its text trimmed, when one line of at most 40 characters. */
  label: string | null;
  /** The first choice's finish reason, as the gateway answered it (OpenAI's names). */
  finishReason: string | null;
  /** The request's OpenAI `metadata` (string values; at most 16 keys, each cut to 64 characters). */
  metadata?: Record<string, string>;
}

/** What a log entry may carry: the features, or how to derive them at flush time (off the hot path). */
export type FeaturesSource = RequestFeatures | (() => RequestFeatures | null);

/** The feature names of the roll-up; `group:<attribute>` and `metadata:<key>` besides. */
export const FEATURES = {
  tokensIn: "tokens_in",
  tokensOut: "tokens_out",
  messages: "messages",
  toolCalls: "tool_calls",
  script: "script",
  toolsOffered: "tools_offered",
  refusal: "refusal",
  valid: "valid",
  finishReason: "finish_reason",
  label: "label",
  group: "group",
  metadata: "metadata",
} as const;

export const NUMERIC_FEATURES: readonly string[] = [
  FEATURES.tokensIn,
  FEATURES.tokensOut,
  FEATURES.messages,
  FEATURES.toolCalls,
];

/** The numeric bins' lower bounds (src/engines/monitoring/bins.ts, where they are explained). */
export { NUMERIC_BIN_BOUNDS };

/** Numbers past this are binned as this (both sides agree on a bigint's range). */
const NUMERIC_MAX = 1e12;

/** The bin of a count (its lower bound, as text): the greatest bound not above it. */
export function numericBin(x: number): string {
  const v = Math.min(Math.max(Math.floor(x), 0), NUMERIC_MAX);
  let lo = 0;
  let hi = NUMERIC_BIN_BOUNDS.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (NUMERIC_BIN_BOUNDS[mid]! <= v) lo = mid;
    else hi = mid - 1;
  }
  return String(NUMERIC_BIN_BOUNDS[lo]);
}

/** Values beyond a feature's cap of distinct bins in a model-hour-version count here. */
export const OTHER_BIN = "__other__";
/** Distinct values of one categorical feature per model, hour and version (then `__other__`). */
export const FEATURE_BIN_CAP = 64;
/** Distinct attributes (`group`) or metadata keys (`metadata`) per model, hour and version. */
export const FEATURE_ATTRIBUTE_CAP = 16;
/** Categorical values and attribute names are cut to this many characters (code points). */
export const FEATURE_VALUE_CHARS = 64;

/** The first 64 code points (SQL's `left(s, 64)`). */
export function cutValue(s: string): string {
  if (s.length <= FEATURE_VALUE_CHARS) return s;
  let i = 0;
  let n = 0;
  while (i < s.length && n < FEATURE_VALUE_CHARS) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
    n++;
  }
  return s.slice(0, i);
}

/**
 * One count a request adds to the feature roll-up. `cap`: the feature's cap of distinct bins
 * (undefined for the numeric features, bounded by construction). A per-attribute value
 * (`group:region`) names its parent (`group`, `region`): it is counted only when the
 * attribute itself is a bin of its own in that hour.
 */
export interface FeatureCount {
  feature: string;
  bin: string;
  cap?: number;
  parent?: { feature: string; bin: string };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

function attributes(family: string, values: unknown, out: FeatureCount[]) {
  if (!isObject(values)) return;
  for (const [k, v] of Object.entries(values)) {
    if (typeof v !== "string") continue;
    const key = cutValue(k);
    out.push({ feature: family, bin: key, cap: FEATURE_ATTRIBUTE_CAP });
    out.push({
      feature: `${family}:${key}`,
      bin: cutValue(v),
      cap: FEATURE_BIN_CAP,
      parent: { feature: family, bin: key },
    });
  }
}

/**
 * What a served request-log row (the table's column names) adds to the feature roll-up,
 * before the caps. A feature the row lacks (null, or a request logged before features were
 * stored) adds nothing; the raw reads (feature-windows.ts) test the same JSON types.
 */
export function featureCounts(row: SpoolRow): FeatureCount[] {
  const out: FeatureCount[] = [
    { feature: FEATURES.tokensIn, bin: numericBin(Number(row.tokens_in ?? 0)) },
    { feature: FEATURES.tokensOut, bin: numericBin(Number(row.tokens_out ?? 0)) },
  ];
  const f = row.features;
  if (isObject(f)) {
    if (typeof f.messages === "number") out.push({ feature: FEATURES.messages, bin: numericBin(f.messages) });
    if (typeof f.toolCalls === "number")
      out.push({ feature: FEATURES.toolCalls, bin: numericBin(f.toolCalls) });
    const text = (feature: string, v: unknown) => {
      if (typeof v === "string") out.push({ feature, bin: cutValue(v), cap: FEATURE_BIN_CAP });
    };
    const flag = (feature: string, v: unknown) => {
      if (typeof v === "boolean") out.push({ feature, bin: String(v), cap: FEATURE_BIN_CAP });
    };
    text(FEATURES.script, f.script);
    if (typeof f.toolsOffered === "number") flag(FEATURES.toolsOffered, f.toolsOffered > 0);
    flag(FEATURES.refusal, f.refusal);
    flag(FEATURES.valid, f.valid);
    text(FEATURES.finishReason, f.finishReason);
    text(FEATURES.label, f.label);
    attributes(FEATURES.metadata, f.metadata, out);
  }
  attributes(FEATURES.group, row.groups, out);
  return out;
}

/** The roll-up sums a row's features add: refusals and JSON validity. */
export function outcomeCounts(row: SpoolRow): { refusal: boolean; checked: boolean; valid: boolean } {
  const f = isObject(row.features) ? row.features : {};
  return {
    refusal: f.refusal === true,
    checked: typeof f.valid === "boolean",
    valid: f.valid === true,
  };
}

/** Resolves an entry's features (derived now when the entry carries a derivation). */
export function resolveFeatures(src: FeaturesSource | null | undefined): RequestFeatures | null {
  if (typeof src !== "function") return src ?? null;
  try {
    return src();
  } catch {
    // A derivation that fails must not lose the request's row: it is stored without features.
    return null;
  }
}
