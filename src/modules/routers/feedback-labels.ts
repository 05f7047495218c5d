/**
 * Labelling logged requests by the tier a router should have sent them to, from the feedback
 * on their answers (issue 18). Pure: a request's log facts in, a label or the reason it has
 * none out. The tiers are ordered cheapest first and assumed ordered by capability too: a
 * request a tier failed, a cheaper one would have failed as well.
 *
 * A request is labelled with the cheapest tier not known to fail on it, when that is known:
 *
 * - answered by tier k with success, and k is the cheapest or every cheaper tier failed on it
 *   (a cascade that escalated past them: the answer failed a check) → k;
 * - answered by tier k with success where a cheaper tier was not tried (a `route` router's
 *   choice, a request to the tier model itself) or errored or was refused → none (ambiguous:
 *   whether the cheaper tier would have done is unknown);
 * - answered by tier k with failure, k not the last → k + 1 (tier k was not enough; the next
 *   one is the cheapest not known to fail);
 * - answered by the last tier with failure → none (no tier is known to succeed);
 * - an ensemble's request → none (the feedback judges a combined answer, not one tier's).
 *
 * An answer counts for a tier when it came from the tier's model and, for a tier pinned to a
 * version (`model@1.2.0`), from that version. A tier naming an alias or the production alias
 * takes any version of its model (the alias may have moved within the window).
 */
import type { JudgedRow } from "../request-log/index.ts";

/** Why a judged request has no label, worded to follow its count ("7 answered with success …"). */
export const SKIP_REASONS = {
  "no-success": "whose latest feedback carries no success (a score or labels only)",
  "not-answered": "not answered (an error status)",
  ensemble: "through an ensemble router (the feedback judges the combined answer, not one tier's)",
  "not-a-tier": "answered by a version that is none of the tiers' (another model or version)",
  "cheaper-unknown":
    "answered with success by a later tier where no cheaper tier was tried, or one errored or was refused (whether a cheaper tier would have done is unknown)",
  "last-failed": "answered by the last tier and failed (no tier is known to succeed)",
  "no-body": "labelled, but without a kept body (the body policy keeps a sampled share)",
  "no-text": "labelled, but with no user text in the kept body",
} as const;
export type SkipReason = keyof typeof SKIP_REASONS;

export interface TrainingTier {
  name: string;
  /** The tier's model name. */
  model: string;
  /** The version a tier pinned (`model@1.2.0`) names; null for an alias or the production alias. */
  versionId: string | null;
}

export interface LabelContext {
  /** Cheapest first. */
  tiers: readonly TrainingTier[];
  /** The router versions seen in the log, by id: their strategy. */
  routers: ReadonlyMap<string, { strategy: string }>;
  /** The model of every version seen in the log, by version id. */
  modelOf: ReadonlyMap<string, string>;
}

export type Judgement =
  | { label: string; source: "route" | "cascade" | "direct" }
  | { skip: SkipReason; source: "route" | "cascade" | "ensemble" | "direct" };

/** The tier the log's tier name for a `route` request: `…; router 1.0.0 tier strong (…) -> …`. */
const ROUTED_TIER = /; router \S+ tier ([a-z][a-z0-9_-]*) \(/;

/**
 * The training tier an answer of `versionId` counts for; `logged` (the tier name the router
 * gave it) tells apart two tiers an answer could count for (two aliases of one model).
 */
export function tierOf(ctx: LabelContext, versionId: string | null, logged?: string): number | null {
  if (!versionId) return null;
  const model = ctx.modelOf.get(versionId);
  const fits: number[] = [];
  for (const [i, t] of ctx.tiers.entries())
    if (t.model === model && (t.versionId === null || t.versionId === versionId)) fits.push(i);
  if (fits.length === 1) return fits[0]!;
  const named = fits.find((i) => ctx.tiers[i]!.name === logged);
  return named ?? null;
}

/** The label of one judged request, or why it has none (before its text is read). */
export function judge(row: JudgedRow, ctx: LabelContext): Judgement {
  const router = row.routedVersionId ? ctx.routers.get(row.routedVersionId) : undefined;
  const source = !router
    ? "direct"
    : router.strategy === "cascade"
      ? "cascade"
      : router.strategy === "route"
        ? "route"
        : "ensemble";
  if (source === "ensemble") return { skip: "ensemble", source };
  if (row.success === null) return { skip: "no-success", source };
  if (row.status >= 400) return { skip: "not-answered", source };
  const failed = new Set<number>();
  let answered: number | null;
  if (source === "cascade") {
    const path = row.routePath ?? [];
    const served = path.findLast((m) => m.outcome === "served");
    if (!served) return { skip: "not-answered", source };
    for (const m of path)
      if (m.outcome === "escalated") {
        const t = tierOf(ctx, m.versionId, m.tier);
        if (t !== null) failed.add(t);
      }
    answered = tierOf(ctx, served.versionId, served.tier);
  } else {
    answered = tierOf(
      ctx,
      row.versionId,
      source === "route" ? ROUTED_TIER.exec(row.routeReason)?.[1] : undefined,
    );
  }
  if (answered === null) return { skip: "not-a-tier", source };
  const last = ctx.tiers.length - 1;
  if (!row.success) {
    if (answered === last) return { skip: "last-failed", source };
    return { label: ctx.tiers[answered + 1]!.name, source };
  }
  for (let j = 0; j < answered; j++) if (!failed.has(j)) return { skip: "cheaper-unknown", source };
  return { label: ctx.tiers[answered]!.name, source };
}
