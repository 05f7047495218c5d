// Compiling a flag once and evaluating it per request. Every result a flag can give is built
// at compile time and returned as is (frozen), so an evaluation allocates nothing but the
// string a rollout hashes: the gateway can call it on its hot path.

import { CONTEXT_PATHS, ConditionError, compileCondition, fnv1a32, type Test } from "../routing/index.ts";
import {
  type ErrorCode,
  type EvaluationContext,
  FLAG_KEY,
  type FlagDefinition,
  FlagDefinitionError,
  type FlagType,
  hasType,
  type Resolution,
} from "./definition.ts";

/** A rollout's buckets: a targeting key falls in [0, BUCKETS). */
export const BUCKETS = 100_000;

type Outcome = (context: EvaluationContext) => Resolution | null;

export interface CompiledFlag {
  readonly key: string;
  readonly type: FlagType;
  readonly definition: FlagDefinition;
  evaluate(context: EvaluationContext, now: number): Resolution;
}

/** The bucket of a targeting key for a flag: sticky (the same key, the same bucket), independent across flags. */
export function bucketOf(flagKey: string, targetingKey: string): number {
  return fnv1a32(`${flagKey}\u0000${targetingKey}`) % BUCKETS;
}

export function errorResolution(key: string, errorCode: ErrorCode, errorDetails: string): Resolution {
  return Object.freeze({ key, reason: "ERROR", errorCode, errorDetails });
}

function instant(iso: string | undefined, at: string): number | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new FlagDefinitionError(at, `not an ISO 8601 instant: "${iso}"`);
  return t;
}

/** Checks a definition and compiles it; throws FlagDefinitionError naming the field. */
export function compileFlag(def: FlagDefinition): CompiledFlag {
  const { key, type } = def;
  if (!FLAG_KEY.test(key))
    throw new FlagDefinitionError(
      "key",
      "letters, digits, '.', '_' and '-', starting with a letter or digit",
    );
  const names = Object.keys(def.variants);
  if (names.length === 0) throw new FlagDefinitionError("variants", "a flag has at least one variant");
  const served = new Map<string, Record<string, Resolution>>();
  for (const name of names) {
    const value = def.variants[name];
    if (!hasType(value, type))
      throw new FlagDefinitionError(`variants.${name}`, `a ${type} flag's variants are ${type}s`);
    const frozen = Object.freeze(structuredClone(value));
    const byReason: Record<string, Resolution> = {};
    for (const reason of ["STATIC", "TARGETING_MATCH", "SPLIT", "DEFAULT", "DISABLED"] as const)
      byReason[reason] = Object.freeze({ key, value: frozen, variant: name, reason });
    served.set(name, byReason);
  }
  const variant = (name: string, at: string) => {
    const r = served.get(name);
    if (!r) throw new FlagDefinitionError(at, `no variant "${name}" (${names.join(", ")})`);
    return r;
  };
  const fallback = variant(def.defaultVariant, "defaultVariant");
  const onAt = instant(def.schedule?.onAt, "schedule.onAt");
  const offAt = instant(def.schedule?.offAt, "schedule.offAt");
  if (onAt !== undefined && offAt !== undefined && offAt <= onAt)
    throw new FlagDefinitionError("schedule.offAt", "off after on");

  const rules: Outcome[] = (def.rules ?? []).map((rule, i) => {
    const at = `rules.${i}`;
    let test: Test<EvaluationContext> | null = null;
    if (rule.when !== undefined) {
      try {
        test = compileCondition<EvaluationContext>(rule.when, `${at}.when`, CONTEXT_PATHS);
      } catch (e) {
        if (e instanceof ConditionError)
          throw new FlagDefinitionError(e.at, e.message.slice(e.at.length + 2));
        throw e;
      }
    }
    if ((rule.variant === undefined) === (rule.rollout === undefined))
      throw new FlagDefinitionError(at, "a rule gives a variant or a rollout, not both");
    if (rule.variant !== undefined) {
      const hit = variant(rule.variant, `${at}.variant`).TARGETING_MATCH!;
      return test ? (c) => (test(c) ? hit : null) : () => hit;
    }
    const slices = rule.rollout!;
    if (slices.length === 0)
      throw new FlagDefinitionError(`${at}.rollout`, "a rollout has at least one slice");
    let total = 0;
    for (const [j, s] of slices.entries()) {
      if (!(Number.isFinite(s.weight) && s.weight >= 0))
        throw new FlagDefinitionError(`${at}.rollout.${j}.weight`, "a weight is a number, 0 or more");
      total += s.weight;
    }
    if (total <= 0) throw new FlagDefinitionError(`${at}.rollout`, "the weights add up to more than 0");
    // Upper bucket bounds, cumulative: slice j takes [bounds[j-1], bounds[j]).
    const bounds = new Int32Array(slices.length);
    const results: Resolution[] = [];
    let cumulative = 0;
    for (const [j, s] of slices.entries()) {
      cumulative += s.weight;
      bounds[j] = j === slices.length - 1 ? BUCKETS : Math.round((cumulative / total) * BUCKETS);
      results.push(variant(s.variant, `${at}.rollout.${j}.variant`).SPLIT!);
    }
    const missing = errorResolution(
      key,
      "TARGETING_KEY_MISSING",
      `rule ${i} splits by targetingKey, and the context has none`,
    );
    return (c) => {
      if (test && !test(c)) return null;
      const tk = c.targetingKey;
      if (typeof tk !== "string" || tk === "") return missing;
      const b = bucketOf(key, tk);
      for (let j = 0; j < bounds.length; j++) if (b < bounds[j]!) return results[j]!;
      return results[results.length - 1]!;
    };
  });

  const disabled = fallback.DISABLED!;
  const none = rules.length === 0 ? fallback.STATIC! : fallback.DEFAULT!;
  const enabled = def.enabled;
  return {
    key,
    type,
    definition: def,
    evaluate(context, now) {
      if (!enabled || (onAt !== undefined && now < onAt) || (offAt !== undefined && now >= offAt))
        return disabled;
      for (const rule of rules) {
        const r = rule(context);
        if (r) return r;
      }
      return none;
    },
  };
}

/**
 * Flags by key, compiled once; evaluation by key, typed when the caller says which type it
 * expects (an SDK's getStringValue …).
 */
export class FlagSet {
  readonly #flags = new Map<string, CompiledFlag>();

  constructor(flags: Iterable<CompiledFlag> = []) {
    for (const f of flags) this.#flags.set(f.key, f);
  }

  get size(): number {
    return this.#flags.size;
  }

  get(key: string): CompiledFlag | undefined {
    return this.#flags.get(key);
  }

  keys(): IterableIterator<string> {
    return this.#flags.keys();
  }

  evaluate(key: string, context: EvaluationContext, now: number, expected?: FlagType): Resolution {
    const flag = this.#flags.get(key);
    if (!flag) return errorResolution(key, "FLAG_NOT_FOUND", `no flag "${key}"`);
    if (expected !== undefined && expected !== flag.type)
      return errorResolution(key, "TYPE_MISMATCH", `"${key}" is a ${flag.type} flag, not a ${expected} one`);
    return flag.evaluate(context, now);
  }
}
