import type { EvaluationContext, Resolution as FlagResolution } from "../../../engines/flags/index.ts";
import { describeSwitch } from "../../kill-switches/index.ts";
import type { RouteMember } from "../../request-log/index.ts";
import type { CompiledRouter, RouteChoice, RouterInput } from "./router.ts";
import type { KillInfo, ModelRoute, RoutableVersion, RoutingSnapshot } from "./snapshot.ts";
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
  /** The kill switch that took the chosen version out of service: the chain skipped it. */
  killed?: KillInfo;
  /**
   * When the model asked for was served through a router version: that model and version
   * (the request is logged under them, so experiments and rollouts of routing policies count
   * it), the tier and why; `model` and `chain` are then the tier's.
   */
  via?: {
    model: string;
    versionId: string;
    version: string;
    tier: string;
    why: string;
    /** The router's own calls before the tier (its LLM classifier): logged and counted with it. */
    calls?: RouteMember[];
  };
}

export interface RouteRefusal {
  status: 403 | 404 | 400 | 502 | 503;
  code: "not_found" | "forbidden" | "invalid_input" | "upstream_error" | "unavailable";
  detail: string;
  /** Set when a kill switch left nothing to serve: the caller is told which, why and by whom. */
  killSwitch?: KillInfo;
}

const NO_CONTEXT: EvaluationContext = Object.freeze({});

/**
 * Resolves the `model` field of a request: `name` (the route's flag, else the live split,
 * else `production`), `name@alias`, or `name@1.2.0` (only where the model's route allows pinning).
 */
export function resolve(
  snapshot: RoutingSnapshot,
  field: string,
  subject: string | undefined,
  fallbackKey: string,
  /** A router's tier (resolvePlain says how it resolves): the route's flag is not asked. */
  internal = false,
  /**
   * For the route's flag: the request's evaluation context (only built when the route has a
   * flag), the runtime's clock (a flag's schedule), the system's when absent, and what counts
   * the evaluation (modelgov_flag_evaluations_total; `known`: the flag is defined).
   */
  flag: {
    context?: () => EvaluationContext;
    now?: () => number;
    observe?: (r: FlagResolution, known: boolean) => void;
  } = {},
): Resolution | RouteRefusal {
  if (internal || field.includes("@")) return resolvePlain(snapshot, field, subject, fallbackKey, internal);
  const model = snapshot.models.get(field);
  if (!model?.flag) return resolvePlain(snapshot, field, subject, fallbackKey, internal);
  const key = model.flag;
  const r = snapshot.flags
    ? snapshot.flags.evaluate(
        key,
        flag.context ? flag.context() : NO_CONTEXT,
        flag.now ? flag.now() : Date.now(),
        "string",
      )
    : undefined;
  if (r && flag.observe) flag.observe(r, r.errorCode !== "FLAG_NOT_FOUND");
  if (!r || r.reason === "ERROR" || r.reason === "DISABLED") {
    // The flag cannot decide (missing, mistyped, a rollout without a targeting key) or is off:
    // the route's normal split/production serves, and the route says why.
    const plain = resolvePlain(snapshot, field, subject, fallbackKey, internal);
    if (!isRefusal(plain))
      plain.reason = `${plain.reason}; flag:${key} ${r ? (r.errorCode ?? r.reason) : "FLAG_NOT_FOUND"}`;
    return plain;
  }
  const value = r.value as string;
  const served = `flag:${key}=${r.variant} (${r.reason})`;
  const fail = (detail: string): RouteRefusal => ({
    status: 502,
    code: "upstream_error",
    detail: `${served} names ${value}, which cannot serve: ${detail}`,
  });
  if (!value.startsWith(`${model.name}@`)) return fail(`not a version or alias of '${model.name}'`);
  // The flag's choice is governed like a router's (its variants pass the release gate), so a
  // pinned version serves whatever the route's pinning policy says.
  const inner = resolvePlain(snapshot, value, subject, fallbackKey, true);
  if (isRefusal(inner))
    return inner.killSwitch ? { ...inner, detail: `${served}: ${inner.detail}` } : fail(inner.detail);
  inner.reason = `${served}; ${inner.reason}`;
  return inner;
}

function resolvePlain(
  snapshot: RoutingSnapshot,
  field: string,
  subject: string | undefined,
  fallbackKey: string,
  /**
   * A router's tier: pinning a version is the approved router's choice, whatever the tier
   * model's route says; a bare name is the production alias, never the tier model's live
   * split (its canary's analysis would not see these requests: they are logged under the
   * router's model).
   */
  internal = false,
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
    if (!model.allowPinning && !internal)
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
  } else if (model.split && !internal) {
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
  if (primary.killed)
    return pastKilled(model, primary, primary.killed, reason, !selector && !!model.split && !internal);
  const chain = [primary, ...model.fallback.filter((f) => f.id !== primary.id && !f.refusal && !f.killed)];
  return { model, chain, reason, splitScope };
}

/**
 * The chosen version is switched off: like a tripped breaker, the model's fallback chain
 * serves. A split's killed arm sends its share to the baseline (the production alias) first;
 * the request then leaves the split's scope (an experiment must not count a subject its arm
 * never served). Nothing left: 503 naming the switch.
 */
function pastKilled(
  model: ModelRoute,
  killed: RoutableVersion,
  sw: KillInfo,
  reason: string,
  fromSplit: boolean,
): Resolution | RouteRefusal {
  const baseline = fromSplit ? model.versions.get(model.aliases.production ?? "") : undefined;
  const chain: RoutableVersion[] = [];
  for (const v of [baseline, ...model.fallback])
    if (v && !v.refusal && !v.killed && v.id !== killed.id && !chain.includes(v)) chain.push(v);
  const what = describeSwitch(sw);
  if (!chain.length)
    return {
      status: 503,
      code: "unavailable",
      detail: `${model.name}@${killed.version} is switched off by ${what}, and no fallback version can serve`,
      killSwitch: sw,
    };
  return { model, chain, reason: `${reason}; kill-switch ${sw.id} -> ${chain[0]!.version}`, killed: sw };
}

type Routed = Resolution | RouteRefusal | MultiPlan | ClassifyPlan;
export const isRefusal = (r: Routed): r is RouteRefusal => "status" in r;

/** A router version that calls several tiers for one request: a cascade or an ensemble. */
export interface MultiPlan {
  strategy: "cascade" | "ensemble";
  router: CompiledRouter;
  /** How the request reached the router (`alias:production; cascade 1.0.0`). */
  reason: string;
  /** `model@version` of the router. */
  label: string;
  splitScope: string | null;
  via: NonNullable<Resolution["via"]>;
}

export const isMulti = (r: Routed): r is MultiPlan => "strategy" in r;

/** A route policy whose tier an LLM classifier names: asked off the synchronous path (http/chat/classify.ts). */
export interface ClassifyPlan {
  classify: CompiledRouter;
  outer: Resolution;
  /** `model@version` of the router. */
  label: string;
}

export const needsClassifier = (r: Routed): r is ClassifyPlan => "classify" in r;

/**
 * A resolution whose primary is a router version, taken through it: the router picks a tier
 * from the request and the tier's target resolves (its alias or pinned version, a bare name
 * its production alias, and the tier model's own fallback chain). Routers do not nest. Other
 * resolutions pass through untouched. `input` is only built when a router needs it.
 */
export function throughRouter(
  snapshot: RoutingSnapshot,
  outer: Resolution,
  input: () => RouterInput,
  subject: string | undefined,
  fallbackKey: string,
): Resolution | RouteRefusal | MultiPlan | ClassifyPlan {
  const primary = outer.chain[0]!;
  const router = primary.router;
  if (!router) return outer;
  const label = `${outer.model.name}@${primary.version}`;
  if (router.policy.strategy !== "route")
    return {
      strategy: router.policy.strategy,
      router,
      reason: `${outer.reason}; ${router.policy.strategy} ${primary.version}`,
      label,
      splitScope: outer.splitScope ?? null,
      via: {
        model: outer.model.name,
        versionId: primary.id,
        version: primary.version,
        tier: "",
        why: router.policy.strategy,
      },
    };
  if (router.llm) return { classify: router, outer, label };
  return throughTier(snapshot, outer, router.pick(input()), subject, fallbackKey);
}

/** A route policy's chosen tier, resolved: its alias or pinned version (never another router). */
export function throughTier(
  snapshot: RoutingSnapshot,
  outer: Resolution,
  choice: RouteChoice,
  subject: string | undefined,
  fallbackKey: string,
): Resolution | RouteRefusal {
  const primary = outer.chain[0]!;
  const label = `${outer.model.name}@${primary.version}`;
  const inner = resolve(snapshot, choice.tier.target, subject, fallbackKey, true);
  if (isRefusal(inner) && inner.killSwitch)
    return {
      ...inner,
      detail: `router ${label} chose tier '${choice.tier.name}' (${choice.tier.target}): ${inner.detail}`,
    };
  if (isRefusal(inner))
    return {
      status: 502,
      code: "upstream_error",
      detail: `router ${label} chose tier '${choice.tier.name}' (${choice.tier.target}), which cannot serve: ${inner.detail}`,
    };
  if (inner.chain[0]!.router)
    return {
      status: 502,
      code: "upstream_error",
      detail: `router ${label}'s tier '${choice.tier.name}' resolves to another router (${inner.model.name}@${inner.chain[0]!.version}); routers do not nest`,
    };
  return {
    ...inner,
    reason: `${outer.reason}; router ${primary.version} tier ${choice.tier.name} (${choice.reason}) -> ${inner.model.name}@${inner.chain[0]!.version} ${inner.reason}`,
    splitScope: outer.splitScope ?? null,
    via: {
      model: outer.model.name,
      versionId: primary.id,
      version: primary.version,
      tier: choice.tier.name,
      why: choice.reason,
    },
  };
}
