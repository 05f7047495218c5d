/**
 * Which models a flag's variants name (src/engines/flags/targets.ts, the release gate's reading:
 * `model@1.2.0` a version, `model@canary` an alias of a model), read for the console: the one
 * model a flag can decide the route of, and the version each variant serves now.
 */
import { type ModelTarget, modelTargets } from "../../src/engines/flags/targets.ts";

/** Each model a variant names, with its aliases (alias -> version); null when it could not be read. */
export type ModelAliases = ReadonlyMap<string, Readonly<Record<string, string>> | null>;

/**
 * The one model every variant names, or null. Only such a flag can be a route's: a route's flag
 * names versions or aliases of that route's model and nothing else (docs/flags.md, In the gateway).
 */
export function routeModel(flag: { variants: Readonly<Record<string, unknown>> }): string | null {
  const targets = modelTargets(flag);
  const models = new Set(targets.map((t) => t.model));
  return models.size === 1 && targets.length === Object.keys(flag.variants).length ? [...models][0]! : null;
}

/** The version a variant serves now (`model@1.2.0`): its own, or the one its alias holds; null when none. */
export function servedVersion(t: ModelTarget, aliases: ModelAliases): string | null {
  const v = t.kind === "version" ? t.ref : aliases.get(t.model)?.[t.ref];
  return v ? `${t.model}@${v}` : null;
}
