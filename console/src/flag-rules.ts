/**
 * A feature flag's targeting in words (docs/flags.md): a rule's `when` condition as a sentence
 * (`tenant is "internal" and plan is not "free"`), a rollout as each variant's share, and where
 * the flag stands in its schedule. Pure, so the page shows exactly the flag the API holds and the
 * wording is unit-tested; the engine (src/engines/routing/conditions.ts) stays the one judge of
 * what a condition means.
 */

type Condition = Readonly<Record<string, unknown>>;

/** A condition's value as written: strings quoted (so "250" and 250 read apart), the rest as JSON. */
const literal = (v: unknown) => JSON.stringify(v) ?? String(v);

const OPS: Record<string, (x: unknown) => string> = {
  $eq: (x) => `is ${literal(x)}`,
  $ne: (x) => `is not ${literal(x)}`,
  $in: (x) => `is one of ${Array.isArray(x) ? x.map(literal).join(", ") : literal(x)}`,
  $nin: (x) => `is none of ${Array.isArray(x) ? x.map(literal).join(", ") : literal(x)}`,
  $gt: (x) => `> ${literal(x)}`,
  $gte: (x) => `≥ ${literal(x)}`,
  $lt: (x) => `< ${literal(x)}`,
  $lte: (x) => `≤ ${literal(x)}`,
  $regex: (x) => `matches /${String(x)}/`,
  $exists: (x) => (x === false ? "is not set" : "is set"),
};

const isObject = (v: unknown): v is Condition => typeof v === "object" && v !== null && !Array.isArray(v);

/** A sentence and how it was joined, so a parent knows whether it needs parentheses. */
interface Words {
  text: string;
  join: "atom" | "and" | "or";
}

function field(path: string, spec: unknown): Words {
  if (!isObject(spec)) return { text: `${path} is ${literal(spec)}`, join: "atom" };
  const parts = Object.entries(spec).map(([op, x]) => `${path} ${OPS[op]?.(x) ?? `${op} ${literal(x)}`}`);
  return { text: parts.join(" and "), join: parts.length > 1 ? "and" : "atom" };
}

/** `inner` as a part of a `join` list: bracketed when it is a list joined the other way. */
const within = (inner: Words, join: "and" | "or") =>
  inner.join !== "atom" && inner.join !== join ? `(${inner.text})` : inner.text;

function words(c: unknown): Words {
  if (!isObject(c)) return { text: literal(c), join: "atom" };
  const parts: Words[] = [];
  for (const [key, spec] of Object.entries(c)) {
    if ((key === "$and" || key === "$or") && Array.isArray(spec)) {
      const join = key === "$and" ? "and" : "or";
      const inner = spec.map(words).filter((w) => w.text !== "");
      if (inner.length === 1) parts.push(inner[0]!);
      else if (inner.length) parts.push({ text: inner.map((w) => within(w, join)).join(` ${join} `), join });
    } else if (key === "$not") {
      const inner = words(spec);
      parts.push({ text: `not ${inner.join === "atom" ? inner.text : `(${inner.text})`}`, join: "atom" });
    } else parts.push(field(key, spec));
  }
  if (parts.length === 0) return { text: "", join: "atom" };
  if (parts.length === 1) return parts[0]!;
  return { text: parts.map((p) => within(p, "and")).join(" and "), join: "and" };
}

/**
 * A rule's `when` in words: `tenant is "internal"`, `region is one of "eu-west", "eu-central" and
 * plan is not "free"`, `(tier is "gold" or beta is true) and not (country is "FR")`. A missing or
 * empty condition holds for everyone.
 */
export function conditionText(when: unknown): string {
  if (when === undefined || when === null) return "everyone";
  return words(when).text || "everyone";
}

export interface Share {
  variant: string;
  weight: number;
  /** The slice's part of the whole, 0..1 (every slice 0 when the weights add to nothing). */
  share: number;
}

/** A rollout's slices with each one's share of the traffic (weights are relative: 1/1/1 is a third each). */
export function rolloutShares(rollout: readonly { variant: string; weight: number }[]): Share[] {
  const total = rollout.reduce((s, r) => s + r.weight, 0);
  return rollout.map((r) => ({
    variant: r.variant,
    weight: r.weight,
    share: total > 0 ? r.weight / total : 0,
  }));
}

/** A share as a percentage with at most one decimal, dropped when it is zero: 10%, 33.3%, 0.5%. */
export function percent(share: number): string {
  const p = Math.round(share * 1000) / 10;
  return `${Number.isInteger(p) ? p.toFixed(0) : p.toFixed(1)}%`;
}

/** A rule in one line (for the history's diff): `when tenant is "internal" → canary`, `everyone → on 10% / off 90%`. */
export function ruleText(rule: {
  when?: unknown;
  variant?: string;
  rollout?: { variant: string; weight: number }[];
}) {
  const gives = rule.rollout
    ? rolloutShares(rule.rollout)
        .map((s) => `${s.variant} ${percent(s.share)}`)
        .join(" / ")
    : (rule.variant ?? "?");
  const when = conditionText(rule.when);
  return `${when === "everyone" ? when : `when ${when}`} → ${gives}`;
}

export type ScheduleState = "always" | "scheduled" | "on" | "ended";

/**
 * Where a flag stands in its schedule at `now`: `always` (no schedule), `scheduled` (before
 * onAt), `on` (from onAt, inclusive, until offAt, exclusive, as the engine reads it), `ended`
 * (from offAt). Outside `on`/`always` everyone gets the default variant.
 */
export function scheduleState(
  schedule: { onAt?: string; offAt?: string } | undefined,
  now: number,
): ScheduleState {
  if (!schedule || (schedule.onAt === undefined && schedule.offAt === undefined)) return "always";
  if (schedule.offAt !== undefined && now >= Date.parse(schedule.offAt)) return "ended";
  if (schedule.onAt !== undefined && now < Date.parse(schedule.onAt)) return "scheduled";
  return "on";
}

/** What a flag serves now, in one word: its rules, or the default to everyone (and why). */
export function servingState(
  flag: { enabled: boolean; schedule?: { onAt?: string; offAt?: string } },
  now: number,
): "rules" | "disabled" | "scheduled" | "ended" {
  if (!flag.enabled) return "disabled";
  const s = scheduleState(flag.schedule, now);
  return s === "scheduled" || s === "ended" ? s : "rules";
}
