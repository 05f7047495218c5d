/**
 * A flag's history in words (GET /flags/{key}/history): what each revision changed, as a diff of
 * the flag before and after read field by field (`default variant: production → canary`, `rule 1
 * added: when tenant is "internal" → canary`), and the reason its audit event gives, if any.
 * Pure and unit-tested; the page only lays the entries out.
 */
import { ruleText } from "./flag-rules.ts";

type Rule = Parameters<typeof ruleText>[0];

/** The fields of a flag a revision can change (the API's Flag, read structurally). */
export interface FlagShape {
  type: string;
  description: string;
  variants: Readonly<Record<string, unknown>>;
  defaultVariant: string;
  enabled: boolean;
  rules: readonly Rule[];
  schedule?: { onAt?: string; offAt?: string } | undefined;
}

export interface Change {
  /** What changed, in words: `default variant`, `variant canary`, `rule 2`, `schedule off`. */
  field: string;
  kind: "added" | "removed" | "changed";
  before?: string;
  after?: string;
}

/** A value as shown (a string as it is) and as compared (JSON: 5 and "5" differ). */
const shown = (v: unknown) => ({
  text: typeof v === "string" ? v : (JSON.stringify(v) ?? String(v)),
  same: JSON.stringify(v) ?? String(v),
});

/** Every field but the rules as label → value, in the order the page shows a flag. */
function fields(f: FlagShape): Map<string, { text: string; same: string }> {
  const m = new Map([["type", shown(f.type)]]);
  if (f.description) m.set("description", shown(f.description));
  m.set("enabled", shown(f.enabled ? "yes" : "no"));
  m.set("default variant", shown(f.defaultVariant));
  for (const [name, value] of Object.entries(f.variants)) m.set(`variant ${name}`, shown(value));
  if (f.schedule?.onAt) m.set("schedule on", shown(f.schedule.onAt));
  if (f.schedule?.offAt) m.set("schedule off", shown(f.schedule.offAt));
  return m;
}

/** The longest common subsequence of two lists of strings, as pairs of indices. */
function common(a: readonly string[], b: readonly string[]): [number, number][] {
  const n = a.length;
  const m = b.length;
  const len: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      len[i]![j] = a[i] === b[j] ? len[i + 1]![j + 1]! + 1 : Math.max(len[i + 1]![j]!, len[i]![j + 1]!);
  const out: [number, number][] = [];
  for (let i = 0, j = 0; i < n && j < m; ) {
    if (a[i] === b[j]) {
      out.push([i, j]);
      i++;
      j++;
    } else if (len[i + 1]![j]! >= len[i]![j + 1]!) i++;
    else j++;
  }
  return out;
}

/**
 * The rules' changes: a rule kept as it was (even if moved down by an insert) is no change;
 * between kept rules, a removed and an added rule at the same place pair up as a change of that
 * rule. Rules are numbered from 1 as the page shows them: the new number, or the old one for a
 * rule removed.
 */
function ruleChanges(before: readonly Rule[], after: readonly Rule[]): Change[] {
  const a = before.map(ruleText);
  const b = after.map(ruleText);
  const out: Change[] = [];
  let i = 0;
  let j = 0;
  for (const [ki, kj] of [...common(a, b), [a.length, b.length] as [number, number]]) {
    while (i < ki && j < kj)
      out.push({ field: `rule ${j + 1}`, kind: "changed", before: a[i++], after: b[j++] });
    while (i < ki) out.push({ field: `rule ${i + 1}`, kind: "removed", before: a[i++] });
    while (j < kj) out.push({ field: `rule ${j + 1}`, kind: "added", after: b[j++] });
    i = ki + 1;
    j = kj + 1;
  }
  return out;
}

/** What a revision changed: the flag before it (null when created) against the flag it left (null once deleted). */
export function flagDiff(before: FlagShape | null, after: FlagShape | null): Change[] {
  const a = before ? fields(before) : new Map<string, ReturnType<typeof shown>>();
  const b = after ? fields(after) : new Map<string, ReturnType<typeof shown>>();
  const out: Change[] = [];
  for (const [field, now] of b) {
    const was = a.get(field);
    if (was === undefined) out.push({ field, kind: "added", after: now.text });
    else if (was.same !== now.same) out.push({ field, kind: "changed", before: was.text, after: now.text });
  }
  for (const [field, was] of a) if (!b.has(field)) out.push({ field, kind: "removed", before: was.text });
  return [...out, ...ruleChanges(before?.rules ?? [], after?.rules ?? [])];
}

/** A revision with the flag it left (the API's FlagRevision, read structurally). */
export interface RevisionShape {
  revision: number;
  flag: FlagShape | null;
}

/**
 * Each revision (newest first, as the API lists them) with the flag before it: the next older
 * revision's flag, or null for the first and for one after a delete.
 */
export function withBefore<R extends RevisionShape>(
  revisions: readonly R[],
): { rev: R; before: FlagShape | null }[] {
  return revisions.map((rev, i) => ({ rev, before: revisions[i + 1]?.flag ?? null }));
}

/** A flag's audit event as the audit API lists it, read structurally. */
export interface FlagEvent {
  action: string;
  reason?: string | null;
  before: unknown;
  after: unknown;
}

const revisionOf = (v: unknown) =>
  typeof v === "object" && v !== null && typeof (v as { revision?: unknown }).revision === "number"
    ? (v as { revision: number }).revision
    : undefined;

/**
 * The reason each revision's audit event gives, by revision number. A revision and its event are
 * written in one transaction: the event's `after` is the flag at that revision; a delete's event
 * has no after, and its revision follows the one its `before` holds.
 */
export function reasonsByRevision(events: readonly FlagEvent[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const e of events) {
    if (!e.action.startsWith("flag.") || !e.reason) continue;
    const after = revisionOf(e.after);
    const before = revisionOf(e.before);
    const revision = after ?? (e.action === "flag.deleted" && before !== undefined ? before + 1 : undefined);
    if (revision !== undefined) out.set(revision, e.reason);
  }
  return out;
}
