/**
 * Feature flags (issue 19): writes (each with its revision and its audit event in one
 * transaction, the release gate checked inside it), history, and evaluation for OFREP over an
 * in-memory compiled set that reloads when any flag's history moves (one indexed max() per
 * evaluation request, so every replica sees a change at its next request; concurrent requests
 * share one that started after they arrived).
 */
import { isDeepStrictEqual } from "node:util";
import {
  compileFlag,
  type EvaluationContext,
  type FlagDefinition,
  FlagDefinitionError,
  FlagSet,
  type FlagType,
  type Resolution,
} from "../../engines/flags/index.ts";
import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { coalesced } from "../../lib/coalesce.ts";
import { conflict, invalid, notFound } from "../../lib/errors.ts";
import type { Db, Queryable, Tx } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import type { Flag, FlagInput } from "./flags.schemas.ts";
import {
  deleteFlag,
  type FlagChange,
  findFlag,
  flagAsOf,
  flagRevisions,
  flagsPosition,
  listFlags,
  writeFlag,
} from "./flags.store.ts";
import { checkNoRouteUse, checkReleaseGate, checkRouteUse, type ServableGate } from "./release-gate.ts";

export function toDefinition(
  f: Pick<Flag, "key" | "type" | "variants" | "defaultVariant" | "enabled" | "rules" | "schedule">,
): FlagDefinition {
  return {
    key: f.key,
    type: f.type,
    variants: f.variants as FlagDefinition["variants"],
    defaultVariant: f.defaultVariant,
    enabled: f.enabled,
    rules: f.rules as FlagDefinition["rules"],
    schedule: f.schedule,
  };
}

/** Compiles a flag as written, turning a definition problem into a 400 naming the field. */
function compiled(f: FlagInput) {
  try {
    return compileFlag(toDefinition(f));
  } catch (e) {
    if (e instanceof FlagDefinitionError) throw invalid(e.at, e.message.slice(e.at ? e.at.length + 2 : 0));
    throw e;
  }
}

/** What a stored flag is as input: the fields a write compares to decide "no change". */
export function inputOf(f: Flag): FlagInput {
  return {
    key: f.key,
    type: f.type,
    description: f.description,
    variants: f.variants,
    defaultVariant: f.defaultVariant,
    enabled: f.enabled,
    rules: f.rules,
    ...(f.schedule ? { schedule: f.schedule } : {}),
  };
}

/**
 * Every stored flag, compiled: what an evaluator holds in memory (OFREP here; the gateway's
 * routing snapshot can load the same). A stored flag compiled on write; one that no longer
 * does (an engine change) is left out rather than failing the rest.
 */
export async function loadFlagSet(q: Queryable): Promise<FlagSet> {
  const flags = await listFlags(q);
  return new FlagSet(
    flags.flatMap((f) => {
      try {
        return [compileFlag(toDefinition(f))];
      } catch {
        return [];
      }
    }),
  );
}

export type PutOutcome = { flag: Flag; change: "created" | "updated" | "unchanged" };

export function createFlagsService(deps: {
  db: Db;
  clock: Clock;
  servable: ServableGate;
  /** Counts each evaluation (the Prometheus counter); nothing when absent. */
  onEvaluated?: (r: Resolution, known: boolean) => void;
}) {
  const { db, clock } = deps;
  let cache: { position: number; set: FlagSet } | null = null;
  let loading: Promise<FlagSet> | null = null;
  // Under load, N requests at once ask the store once or twice, not N times (the max() was
  // most of a bulk evaluation's cost on the embedded store), and none gets a position read
  // before it arrived.
  const position = coalesced<null, number>(() => flagsPosition(db));

  async function audited(
    tx: Tx,
    ctx: RequestContext,
    key: string,
    change: FlagChange,
    before: Flag | null,
    after: Flag | null,
    reason = "",
  ) {
    await recordAudit(tx, ctx, clock.now(), {
      action: `flag.${change}`,
      subjectType: "flag",
      subjectId: key,
      before: before ? { ...before } : null,
      after: after ? { ...after } : null,
      reason,
    });
  }

  /**
   * Creates or replaces a flag inside `tx`; an identical flag is left alone (no revision, no
   * event). `skipReleaseGate` is the demo seed's alone (its canary is unapproved on purpose, for
   * the approval inbox demo): the audit event says the gate was skipped.
   */
  async function putTx(
    tx: Tx,
    ctx: RequestContext,
    input: FlagInput,
    mode: "create" | "upsert",
    opts: { skipReleaseGate?: boolean } = {},
  ): Promise<PutOutcome> {
    compiled(input);
    const before = await findFlag(tx, input.key, true);
    if (before && mode === "create")
      throw conflict(`flag ${input.key} already exists`, [{ field: "key", reason: "already exists" }]);
    if (before && isDeepStrictEqual(inputOf(before), input)) return { flag: before, change: "unchanged" };
    if (!opts.skipReleaseGate) await checkReleaseGate(tx, input, deps.servable);
    await checkRouteUse(tx, input);
    const change = before ? "updated" : "created";
    const flag = await writeFlag(tx, input, change, ctx.actor, clock.now());
    await audited(
      tx,
      ctx,
      input.key,
      change,
      before,
      flag,
      opts.skipReleaseGate ? "release gate skipped (demo seed)" : "",
    );
    return { flag, change };
  }

  async function existing(q: Queryable, key: string, forUpdate = false) {
    const f = await findFlag(q, key, forUpdate);
    if (!f) throw notFound(`flag '${key}'`);
    return f;
  }

  /** The compiled flags, reloaded when the flags' history has moved since they were compiled. */
  async function current(): Promise<FlagSet> {
    const at = await position(null);
    if (cache && cache.position === at) return cache.set;
    loading ??= (async () => {
      try {
        const set = await loadFlagSet(db);
        cache = { position: at, set };
        return set;
      } finally {
        loading = null;
      }
    })();
    return loading;
  }

  function counted(set: FlagSet, r: Resolution): Resolution {
    deps.onEvaluated?.(r, set.get(r.key) !== undefined);
    return r;
  }

  return {
    list: () => listFlags(db),

    /** The flag now, or as it was at `asOf` (ISO 8601). */
    async get(key: string, asOf?: string): Promise<Flag> {
      if (asOf === undefined) return existing(db, key);
      const f = await flagAsOf(db, key, asOf);
      if (!f) throw notFound(`flag '${key}' at ${asOf}`);
      return f;
    },

    history: async (key: string) => {
      const revisions = await flagRevisions(db, key);
      if (revisions.length === 0) throw notFound(`flag '${key}'`);
      return revisions;
    },

    putTx,

    put: (
      ctx: RequestContext,
      input: FlagInput,
      mode: "create" | "upsert",
      opts: { skipReleaseGate?: boolean } = {},
    ) => db.transaction((tx) => putTx(tx, ctx, input, mode, opts)),

    setEnabled: (ctx: RequestContext, key: string, enabled: boolean) =>
      db.transaction(async (tx) => {
        const before = await existing(tx, key, true);
        if (before.enabled === enabled) return before;
        const input = { ...inputOf(before), enabled };
        // Enabling puts the variants back in front of traffic: the gate applies as on any write.
        if (enabled) await checkReleaseGate(tx, input, deps.servable);
        const change = enabled ? "enabled" : "disabled";
        const flag = await writeFlag(tx, input, change, ctx.actor, clock.now());
        await audited(tx, ctx, key, change, before, flag);
        return flag;
      }),

    remove: (ctx: RequestContext, key: string) =>
      db.transaction(async (tx) => {
        const before = await existing(tx, key, true);
        await checkNoRouteUse(tx, key);
        await deleteFlag(tx, key, ctx.actor, clock.now());
        await audited(tx, ctx, key, "deleted", before, null);
      }),

    /** One flag for a context (OFREP single); `expected` when the caller says the type it wants. */
    async evaluate(key: string, context: EvaluationContext, expected?: FlagType): Promise<Resolution> {
      const set = await current();
      return counted(set, set.evaluate(key, context, clock.now().getTime(), expected));
    },

    /** Every flag for a context (OFREP bulk), in key order (the store lists them so). */
    async evaluateAll(context: EvaluationContext): Promise<Resolution[]> {
      const set = await current();
      const now = clock.now().getTime();
      return [...set.keys()].map((k) => counted(set, set.evaluate(k, context, now)));
    },

    /** The compiled flags as they stand (for an evaluator elsewhere: the gateway). */
    current,
  };
}

export type FlagsService = ReturnType<typeof createFlagsService>;
