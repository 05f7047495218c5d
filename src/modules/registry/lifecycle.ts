import type { Retention, Status } from "./registry.schemas.ts";

/**
 * Allowed lifecycle moves. Production may be entered straight from development
 * (blue-green); deprecated may return to production (rollback to a kept version).
 */
export const TRANSITIONS: Record<Status, readonly Status[]> = {
  development: ["canary", "production", "retired"],
  canary: ["production", "development", "retired"],
  production: ["deprecated"],
  deprecated: ["production", "retired"],
  retired: [],
};

export function allowedTransitions(from: Status): readonly Status[] {
  return TRANSITIONS[from];
}

export function canTransition(from: Status, to: Status): boolean {
  return TRANSITIONS[from].includes(to);
}

export const DEFAULT_RETENTION: Retention = { keepProduction: 3, keepDeprecated: 2 };

export interface RetentionCandidate {
  id: string;
  status: Status;
  promotedAt: Date | null;
  /** Versions an alias points to are never retired or deprecated by retention. */
  pinnedByAlias: boolean;
}

/**
 * Which versions retention moves: the production versions beyond the newest
 * `keepProduction` (by promotion time) are deprecated; deprecated ones beyond the
 * newest `keepDeprecated` are retired. Nothing is deleted.
 */
export function planRetention(
  versions: readonly RetentionCandidate[],
  policy: Retention,
): { deprecate: string[]; retire: string[] } {
  const byPromotion = (a: RetentionCandidate, b: RetentionCandidate) =>
    (b.promotedAt?.getTime() ?? 0) - (a.promotedAt?.getTime() ?? 0) || (a.id < b.id ? 1 : -1);
  const production = versions.filter((v) => v.status === "production").sort(byPromotion);
  const deprecate = production
    .slice(policy.keepProduction)
    .filter((v) => !v.pinnedByAlias)
    .map((v) => v.id);
  const deprecatedAfter = [
    ...versions.filter((v) => v.status === "deprecated"),
    ...production.filter((v) => deprecate.includes(v.id)),
  ].sort(byPromotion);
  const retire = deprecatedAfter
    .slice(policy.keepDeprecated)
    .filter((v) => !v.pinnedByAlias)
    .map((v) => v.id);
  return { deprecate, retire };
}
