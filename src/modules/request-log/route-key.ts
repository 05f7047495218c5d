/*
 * A router version's request's **path**: which of its tiers it went through, as one short key
 * that the path roll-up (path-rollup.ts) counts requests, cost and success under.
 *
 * - `route`: the tier the policy chose (`strong`), whether it answered or failed;
 * - `cascade`: the tiers called, in order, joined by `>` (`cheap`, `cheap>strong`), the one
 *   that answered last: a cascade's path is its escalations;
 * - `ensemble`: the tier whose answer was chosen (`cheap`); every tier was called anyway;
 * - `(none)`: no tier was called (all refused), or an ensemble had no answer to choose.
 *
 * Only tiers count: a member whose `role` (or `kind`) names something else (a classifier or a
 * judge the router consulted) is not on the path, nor is a tier that was refused (it could not
 * be called) or whose outcome this code does not know. Tier names are a lowercase letter, then
 * letters, digits, `_` or `-`, so neither `>` nor `(none)` can be mistaken for one.
 */

export type RouteStrategy = "route" | "cascade" | "ensemble";

/** The path of a request that went through no tier. */
export const NO_PATH = "(none)";

/** What the key reads of a route_path member (stored JSON: other fields are ignored). */
interface MemberLike {
  tier?: unknown;
  outcome?: unknown;
  role?: unknown;
  kind?: unknown;
}

const CALLED = new Set(["served", "escalated", "outvoted", "failed"]);

const isTier = (m: MemberLike) => {
  const role = m.role ?? m.kind;
  return (role === undefined || role === null || role === "tier") && typeof m.tier === "string";
};

/** The key of a router's request (null when no router handled it: no strategy or no members). */
export function routeKey(
  strategy: RouteStrategy | string | null | undefined,
  members: readonly MemberLike[] | null | undefined,
): string | null {
  if (!strategy || !Array.isArray(members)) return null;
  const called = members.filter((m) => isTier(m) && CALLED.has(m.outcome as string));
  if (strategy === "ensemble") {
    const chosen = called.find((m) => m.outcome === "served");
    return chosen ? (chosen.tier as string) : NO_PATH;
  }
  // route (one member) and cascade; a strategy added later reads as its tiers in order.
  return called.length ? called.map((m) => m.tier as string).join(">") : NO_PATH;
}
