import type { ModelRoute, RoutableVersion, RoutingSnapshot } from "./snapshot.ts";
import { bucketOf } from "./split.ts";

const SEMVER_LIKE = /^\d+\.\d+\.\d+/;

export interface Resolution {
  model: ModelRoute;
  /** Primary first, then the model's fallback chain (distinct, servable). */
  chain: RoutableVersion[];
  /** Why the primary was chosen: `alias:production`, `split:90/10 bucket=4231`, `pinned`. */
  reason: string;
  /** The split's identity when the split chose the primary (an experiment's id). */
  splitScope?: string | null;
}

export interface RouteRefusal {
  status: 403 | 404 | 400;
  code: "not_found" | "forbidden" | "invalid_input";
  detail: string;
}

/**
 * Resolves the `model` field of a request: `name` (the live split, else `production`),
 * `name@alias`, or `name@1.2.0` (only where the model's route allows pinning).
 */
export function resolve(
  snapshot: RoutingSnapshot,
  field: string,
  subject: string | undefined,
  fallbackKey: string,
): Resolution | RouteRefusal {
  const at = field.indexOf("@");
  const name = at < 0 ? field : field.slice(0, at);
  const selector = at < 0 ? null : field.slice(at + 1);
  const model = snapshot.models.get(name);
  if (!model) return { status: 404, code: "not_found", detail: `model '${name}' is not registered` };
  let primary: RoutableVersion | undefined;
  let reason: string;
  let splitScope: string | null = null;
  if (selector && SEMVER_LIKE.test(selector)) {
    if (!model.allowPinning)
      return {
        status: 403,
        code: "forbidden",
        detail: `the route of '${name}' does not allow pinning a version; use an alias`,
      };
    primary = model.versions.get(selector);
    if (!primary)
      return {
        status: 404,
        code: "not_found",
        detail: `version '${selector}' of '${name}' is not registered or is retired`,
      };
    reason = "pinned";
  } else if (selector) {
    const v = model.aliases[selector];
    if (!v) return { status: 404, code: "not_found", detail: `model '${name}' has no alias '${selector}'` };
    primary = model.versions.get(v);
    reason = `alias:${selector}`;
  } else if (model.split) {
    const bucket = bucketOf(subject ?? fallbackKey, name);
    primary = model.split.pick(bucket);
    reason = `split:${model.split.describe} bucket=${bucket}${subject ? "" : " (no subject)"}`;
    splitScope = model.splitScope;
  } else {
    const v = model.aliases.production;
    if (!v)
      return { status: 404, code: "not_found", detail: `model '${name}' has no production version yet` };
    primary = model.versions.get(v);
    reason = "alias:production";
  }
  if (!primary)
    return { status: 404, code: "not_found", detail: `model '${name}' points at a retired version` };
  if (primary.refusal) return { status: 403, code: "forbidden", detail: primary.refusal };
  const chain = [primary, ...model.fallback.filter((f) => f.id !== primary.id && !f.refusal)];
  return { model, chain, reason, splitScope };
}

export const isRefusal = (r: Resolution | RouteRefusal): r is RouteRefusal => "status" in r;
