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
  FlagDefinitionError,
  FlagSet,
  type FlagType,
  modelTargets,
  type Resolution,
} from "../../engines/flags/index.ts";
import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { coalesced } from "../../lib/coalesce.ts";
import { AppError, conflict, type FieldProblem, invalid, notFound } from "../../lib/errors.ts";
import type { Db, Queryable, Tx } from "../../store/db.ts";
import type { FlagChangeRule } from "../approvals/index.ts";
import { recordAudit } from "../audit/index.ts";
import { type ChangeRequest, type ChangeStatus, createFlagChanges } from "./flag-changes.ts";
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
import {
  checkNoRouteUse,
  checkReleaseGate,
  checkRouteUse,
  routedModels,
  type ServableGate,
} from "./release-gate.ts";
import { checkSegments, type SegmentFacts } from "./segment-gate.ts";
import { toDefinition } from "./to-definition.ts";

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

export { toDefinition };

export type PutOutcome =
  | { flag: Flag; change: "created" | "updated" | "unchanged" }
  | { flag: Flag | null; change: "pending"; request: ChangeRequest };

export function createFlagsService(deps: {
  db: Db;
  clock: Clock;
  servable: ServableGate;
  /** The release gate per segment: the policy's segments and what they read. */
  segments?: SegmentFacts;
  /** The approval policy's flag-change rules (no rules: every change applies at once). */
  policy?: (q: Queryable) => Promise<{ flagChanges: FlagChangeRule[] }>;
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

  /** The release gate, then the gate per segment (both refuse with 422 naming the field). */
  async function gated(tx: Tx, input: FlagInput) {
    await checkReleaseGate(tx, input, deps.servable);
    if (deps.segments) await checkSegments(tx, input, deps.segments);
  }

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
   * What a change must pass: the gates (a disable never needs them: it only takes variants out
   * of traffic), a route's hold on its flag (its type and variants; not deleted from under it).
   */
  async function checks(tx: Tx, change: FlagChange, key: string, input: FlagInput | null, skipGate = false) {
    if (!input) return checkNoRouteUse(tx, key);
    if (!skipGate && change !== "disabled") await gated(tx, input);
    if (change === "created" || change === "updated") await checkRouteUse(tx, input);
  }

  /**
   * A change as it applies: the gates it must pass (a disable never needs them), the revision
   * and the audit event, in `tx`. The actor of the revision is whoever asked for the change
   * (the requester of a signed-off change); the audit event's is who made it happen.
   */
  async function write(
    tx: Tx,
    ctx: RequestContext,
    change: FlagChange,
    before: Flag | null,
    input: FlagInput | null,
    opts: { skipReleaseGate?: boolean; actor?: string; reason?: string } = {},
  ): Promise<Flag | null> {
    const key = (input ?? before)!.key;
    const actor = opts.actor ?? ctx.actor;
    await checks(tx, change, key, input, opts.skipReleaseGate);
    if (!input) {
      await deleteFlag(tx, key, actor, clock.now());
      await audited(tx, ctx, key, "deleted", before, null, opts.reason);
      return null;
    }
    const flag = await writeFlag(tx, input, change as Exclude<FlagChange, "deleted">, actor, clock.now());
    await audited(tx, ctx, key, change, before, flag, opts.reason);
    return flag;
  }

  const changes = createFlagChanges({
    clock,
    rules: async (q) => (deps.policy ? (await deps.policy(q)).flagChanges : []),
    routedModels,
    current: (q, key) => findFlag(q, key, true),
    async apply(tx, ctx, r, current) {
      const signers = r.signoffs
        .filter((x) => x.decision === "approve")
        .map((x) => `${x.signer} (${x.role})`);
      const flag = await write(tx, ctx, r.change, current, r.proposed, {
        actor: r.requestedBy,
        reason: `change ${r.id} requested by ${r.requestedBy}, signed by ${signers.join(", ")}${r.reason ? `: ${r.reason}` : ""}`,
      });
      return { revision: flag?.revision ?? (await flagRevisions(tx, r.key))[0]?.revision ?? null };
    },
  });

  /**
   * Applies a change, or holds it for sign-offs where the policy's flagChanges rules govern it.
   * Gates are checked before a change is held too: one that could never apply is refused now.
   */
  async function decide(
    tx: Tx,
    ctx: RequestContext,
    change: FlagChange,
    before: Flag | null,
    input: FlagInput | null,
    opts: { skipReleaseGate?: boolean; reason?: string } = {},
  ): Promise<{ flag: Flag | null; pending: ChangeRequest | null }> {
    const key = (input ?? before)!.key;
    const governed = await changes.propose(tx, ctx, change, before, input, opts.reason ?? "", () =>
      checks(tx, change, key, input, opts.skipReleaseGate),
    );
    if (governed) return { flag: before, pending: governed };
    return { flag: await write(tx, ctx, change, before, input, opts), pending: null };
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
    opts: { skipReleaseGate?: boolean; reason?: string } = {},
  ): Promise<PutOutcome> {
    compiled(input);
    const before = await findFlag(tx, input.key, true);
    if (before && mode === "create")
      throw conflict(`flag ${input.key} already exists`, [{ field: "key", reason: "already exists" }]);
    if (before && isDeepStrictEqual(inputOf(before), input)) return { flag: before, change: "unchanged" };
    const change = before ? "updated" : "created";
    const out = await decide(tx, ctx, change, before, input, {
      ...opts,
      ...(opts.skipReleaseGate ? { reason: "release gate skipped (demo seed)" } : {}),
    });
    if (out.pending) return { flag: before, change: "pending", request: out.pending };
    return { flag: out.flag!, change };
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

  const service = {
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
      opts: { skipReleaseGate?: boolean; reason?: string } = {},
    ) => db.transaction((tx) => putTx(tx, ctx, input, mode, opts)),

    /** Enables or disables a flag; a governed change comes back as `pending` instead. */
    setEnabled: (ctx: RequestContext, key: string, enabled: boolean, reason = "") =>
      db.transaction(async (tx): Promise<Flag | { pending: ChangeRequest }> => {
        const before = await existing(tx, key, true);
        if (before.enabled === enabled) return before;
        // Enabling puts the variants back in front of traffic: the gate applies as on any write.
        const out = await decide(
          tx,
          ctx,
          enabled ? "enabled" : "disabled",
          before,
          { ...inputOf(before), enabled },
          { reason },
        );
        return out.pending ? { pending: out.pending } : out.flag!;
      }),

    /** Deletes a flag (its history stays); a governed delete comes back as the pending change. */
    remove: (ctx: RequestContext, key: string, reason = "") =>
      db.transaction(async (tx): Promise<ChangeRequest | null> => {
        const before = await existing(tx, key, true);
        return (await decide(tx, ctx, "deleted", before, null, { reason })).pending;
      }),

    /** Flag changes waiting for (or past) their sign-offs. */
    changes: {
      list: (f: { key?: string; status?: ChangeStatus; limit?: number }) => changes.list(db, f),
      get: (id: string) => changes.get(db, id),
      sign: (
        ctx: RequestContext,
        id: string,
        s: { role: string; decision: "approve" | "reject"; comment: string },
      ) => db.transaction((tx) => changes.sign(tx, ctx, id, s)),
      withdraw: (ctx: RequestContext, id: string) => db.transaction((tx) => changes.withdraw(tx, ctx, id)),
    },

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

    /**
     * The flags (all, or those naming `model`) the segment gate refuses as things stand now: a
     * version's tags, an evaluation run or an approval may have moved since they were written.
     */
    async violations(q: Queryable = db, model?: string): Promise<{ key: string; errors: FieldProblem[] }[]> {
      // Without segments nothing can breach (the common case: one read, on every alias move).
      if (!deps.segments || !(await deps.segments.policy(q)).segments.length) return [];
      const out: { key: string; errors: FieldProblem[] }[] = [];
      for (const f of await listFlags(q)) {
        if (model && !modelTargets(f).some((t) => t.model === model)) continue;
        try {
          await checkSegments(q, inputOf(f), deps.segments);
        } catch (e) {
          if (!(e instanceof AppError)) throw e;
          out.push({ key: f.key, errors: e.errors });
        }
      }
      return out;
    },

    /** Refuses (409) a change elsewhere that would leave a flag sending a segment where it may not go. */
    async holdSegments(q: Queryable, what: string, field: string, model?: string): Promise<void> {
      const bad = await service.violations(q, model);
      if (!bad.length) return;
      const reasons = bad.map((b) => `flag ${b.key}: ${b.errors[0]?.field}: ${b.errors[0]?.reason}`);
      throw new AppError("conflict", `${what} would leave ${reasons.join("; ")}`, {
        errors: reasons.map((reason) => ({ field, reason })),
      });
    },
  };
  return service;
}

export type FlagsService = ReturnType<typeof createFlagsService>;
