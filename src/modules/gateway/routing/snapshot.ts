import type { FlagSet } from "../../../engines/flags/index.ts";
import type { Queryable } from "../../../store/db.ts";
import { loadFlagSet } from "../../flags/index.ts";
import { engagedSwitches } from "../../kill-switches/index.ts";
import { type CompiledRouter, compileRouter } from "./router.ts";
import { compileSplit } from "./split.ts";

/** Everything the gateway needs to route, held in memory: the hot path never queries the database. */
export interface RoutableVersion {
  id: string;
  model: string;
  version: string;
  status: string;
  provider: "openai" | "openai-compatible" | "anthropic" | "simulator" | "router";
  providerModelId: string;
  endpoint: string | null;
  parameters: Record<string, unknown>;
  /** A router version's compiled policy (provider `router`); null for a model served by a provider. */
  router?: CompiledRouter | null;
  /** Why this version may not serve, or null when it may. */
  refusal: string | null;
  /** The kill switch that takes this version out of service (its own, or its provider's), or null. */
  killed?: KillInfo | null;
  price: { inputPer1kUsd: number; outputPer1kUsd: number };
}

/** An engaged kill switch, as the gateway tells a caller it refused (docs/kill-switches.md). */
export interface KillInfo {
  id: string;
  scope: "version" | "provider";
  /** `model@version` or the provider's name. */
  target: string;
  reason: string;
  engagedBy: string;
  engagedAt: string;
}

export interface Timeouts {
  totalMs: number;
  firstByteMs: number;
  idleMs: number;
}

export interface ModelRoute {
  id: string;
  name: string;
  aliases: Record<string, string>;
  versions: Map<string, RoutableVersion>;
  byId: Map<string, RoutableVersion>;
  split: { pick(bucket: number): RoutableVersion; describe: string; arms: readonly RoutableVersion[] } | null;
  /** The split's identity (an experiment's id): logged with each request the split routed. */
  splitScope: string | null;
  /** Shadow mode: plain calls mirrored to `target` with probability share/100. */
  shadow: { target: RoutableVersion; share: number } | null;
  fallback: RoutableVersion[];
  /** The key of the string flag that decides the version for a bare-name request, or null. */
  flag?: string | null;
  allowPinning: boolean;
  timeouts: Timeouts;
  breaker: Record<string, unknown> | null;
}

export interface RoutingSnapshot {
  /** The audit position the snapshot reflects (the state version replicas agree on). */
  position: number;
  models: Map<string, ModelRoute>;
  /** The engaged kill switches (the metrics' gauge counts them). */
  killSwitches?: KillInfo[];
  /** Every flag, compiled: a route's flag is evaluated from here, never read per request. */
  flags?: FlagSet;
}

export const DEFAULT_TIMEOUTS: Timeouts = { totalMs: 120_000, firstByteMs: 30_000, idleMs: 30_000 };

type Row = Record<string, unknown>;

/**
 * Loads the routing state. A version serves when it is in production (it passed the
 * approval gate on the way in), deprecated (still approved, kept for rollback), or in
 * canary/development with an approval in force; retired versions never serve.
 */
export async function loadSnapshot(
  q: Queryable,
  approvedIds: (ids: string[]) => Promise<Set<string>>,
): Promise<RoutingSnapshot> {
  const head = await q.query<{ seq: string | number }>("SELECT seq FROM audit_chain_head WHERE id = 'head'");
  const models = await q.query<Row>(
    `SELECT m.id, m.name, r.split, r.split_scope, r.shadow, r.fallback, r.allow_pinning, r.flag, r.timeouts, r.breaker, r.prices
       FROM models m LEFT JOIN model_routes r ON r.model_id = m.id`,
  );
  const versions = await q.query<Row>(
    `SELECT v.id, v.model_id, v.version, v.status, v.provider, v.provider_model_id, v.endpoint, v.parameters
       FROM model_versions v WHERE v.status <> 'retired'`,
  );
  const aliases = await q.query<Row>("SELECT model_id, alias, version_id FROM aliases");
  const candidates = versions
    .filter((v) => v.status === "canary" || v.status === "development")
    .map((v) => v.id as string);
  const approved = candidates.length ? await approvedIds(candidates) : new Set<string>();
  const switches: KillInfo[] = [];
  const killedVersions = new Map<string, KillInfo>();
  const killedProviders = new Map<string, KillInfo>();
  for (const s of await engagedSwitches(q)) {
    const info = {
      id: s.id,
      scope: s.scope,
      target: s.target,
      reason: s.reason,
      engagedBy: s.engagedBy,
      engagedAt: s.engagedAt,
    };
    switches.push(info);
    (s.scope === "version" ? killedVersions : killedProviders).set(s.key, info);
  }

  const out = new Map<string, ModelRoute>();
  for (const m of models) {
    const prices =
      (m.prices as Record<string, { inputPer1kUsd: number; outputPer1kUsd: number }> | null) ?? {};
    const route: ModelRoute = {
      id: m.id as string,
      name: m.name as string,
      aliases: {},
      versions: new Map(),
      byId: new Map(),
      split: null,
      splitScope: null,
      shadow: null,
      fallback: [],
      flag: (m.flag as string | null) ?? null,
      allowPinning: (m.allow_pinning as boolean | null) ?? false,
      timeouts: { ...DEFAULT_TIMEOUTS, ...((m.timeouts as Partial<Timeouts> | null) ?? {}) },
      breaker: (m.breaker as Record<string, unknown> | null) ?? null,
    };
    for (const v of versions.filter((x) => x.model_id === m.id)) {
      const status = v.status as string;
      const servable = status === "production" || status === "deprecated" || approved.has(v.id as string);
      let router: CompiledRouter | null = null;
      let broken: string | null = null;
      if (v.provider === "router")
        try {
          router = compileRouter(v.parameters);
        } catch (err) {
          broken = `${route.name}@${v.version}: ${(err as Error).message}`;
        }
      const rv: RoutableVersion = {
        id: v.id as string,
        model: route.name,
        version: v.version as string,
        status,
        provider: v.provider as RoutableVersion["provider"],
        providerModelId: v.provider_model_id as string,
        endpoint: (v.endpoint as string | null) ?? null,
        parameters: v.parameters as Record<string, unknown>,
        router,
        refusal: !servable ? `${route.name}@${v.version} is ${status} without an approval in force` : broken,
        killed: killedVersions.get(v.id as string) ?? killedProviders.get(v.provider as string) ?? null,
        price: prices[v.version as string] ?? { inputPer1kUsd: 0, outputPer1kUsd: 0 },
      };
      route.versions.set(rv.version, rv);
      route.byId.set(rv.id, rv);
    }
    for (const a of aliases.filter((x) => x.model_id === m.id)) {
      const v = route.byId.get(a.version_id as string);
      if (v) route.aliases[a.alias as string] = v.version;
    }
    const split = (m.split as { version: string; weight: number }[] | null) ?? null;
    const arms = (split ?? [])
      .map((a) => ({ target: route.versions.get(a.version), weight: a.weight }))
      .filter((a) => a.target && a.weight > 0);
    if (arms.length) {
      route.split = compileSplit(arms as { target: RoutableVersion; weight: number }[]);
      route.splitScope = (m.split_scope as string | null) ?? null;
    }
    const shadow = m.shadow as { version: string; share: number } | null;
    const shadowTarget = shadow ? route.versions.get(shadow.version) : undefined;
    if (shadow && shadowTarget && !shadowTarget.refusal && !shadowTarget.killed)
      route.shadow = { target: shadowTarget, share: shadow.share };
    route.fallback = ((m.fallback as string[] | null) ?? [])
      .map((v) => route.versions.get(v))
      .filter((v): v is RoutableVersion => !!v);
    out.set(route.name, route);
  }
  const flags = await loadFlagSet(q);
  return { position: Number(head[0]?.seq ?? 0), models: out, killSwitches: switches, flags };
}
