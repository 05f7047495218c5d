import type { ModelRoute, RoutableVersion, RoutingSnapshot } from "./snapshot.ts";

export interface ListedModel {
  /** What a client sends as `model`: the name (production), or `name@alias`. */
  id: string;
  /** The version the alias points at. */
  version: string;
}

const serves = (v: RoutableVersion | undefined): v is RoutableVersion => !!v && !v.refusal && !v.killed;

/**
 * The ids `/v1/models` lists: a model's production alias (as its bare name) and its other
 * aliases, each only when a request naming it can be served by something. OpenAI clients
 * take the list as "what I may call" (a picker, a config check) and read nothing but `id`,
 * so an id whose every version is switched off (kill switches) with nothing in the fallback
 * chain is left out, not marked: a marker no client reads would still be offered and 503.
 *
 * A bare name may reach its production version, the split's arms and the versions its
 * route's flag names; it is listed when one of them serves, or one is switched off (not
 * refused) with a fallback that serves (resolve's pastKilled). An alias whose version has no
 * approval in force (a refusal: 403, no fallback) is not listed, as before.
 */
export function listedModels(snapshot: RoutingSnapshot): ListedModel[] {
  const out: ListedModel[] = [];
  for (const m of snapshot.models.values()) {
    const fallback = m.fallback.some(serves);
    for (const [alias, version] of Object.entries(m.aliases)) {
      const v = m.versions.get(version);
      if (!v || v.refusal) continue;
      const reach = alias === "production" ? bareTargets(snapshot, m, v) : [v];
      if (reach.some(serves) || (fallback && reach.some((t) => !t.refusal)))
        out.push({ id: alias === "production" ? m.name : `${m.name}@${alias}`, version: v.version });
    }
  }
  return out;
}

/** The versions a request naming the model alone may be routed to (resolve: flag, split, production). */
function bareTargets(snapshot: RoutingSnapshot, m: ModelRoute, production: RoutableVersion) {
  const out = [production, ...(m.split?.arms ?? [])];
  const variants = m.flag ? snapshot.flags?.get(m.flag)?.definition.variants : undefined;
  for (const value of Object.values(variants ?? {})) {
    if (typeof value !== "string" || !value.startsWith(`${m.name}@`)) continue;
    const selector = value.slice(m.name.length + 1);
    const v = m.versions.get(m.aliases[selector] ?? selector);
    if (v) out.push(v);
  }
  return out;
}
