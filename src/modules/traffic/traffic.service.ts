import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { AppError, notFound } from "../../lib/errors.ts";
import type { Db, Queryable, Tx } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import { lockModel, modelIdByName, versionStatuses } from "../registry/index.ts";
import type { TrafficSync, TrafficTarget, TrafficTargetView } from "./traffic.schemas.ts";
import { deleteTarget, sameRouteOwner, type TargetRow, targetOf, upsertTarget } from "./traffic.store.ts";
import { integerWeights, servedShares } from "./weights.ts";

/**
 * The integer weights a target's route should carry now, from what the gateway serves (the
 * split, else the production version), or why there are none: a version serving traffic with no
 * backend named for it is an error, never a silent 0.
 */
export function desiredWeights(
  row: Pick<TargetRow, "target" | "split" | "production">,
): { weights: Record<string, number> } | { error: string } {
  const shares = servedShares(row.split, row.production);
  if (!shares.length)
    return { error: "the model has no production version and no split: nothing to route to" };
  const { backends, total } = row.target;
  const missing = shares.filter((s) => s.pct > 0 && !backends[s.version]);
  if (missing.length)
    return {
      error: `${missing.map((s) => `${s.version} (${Math.round(s.pct * 1000) / 1000}%)`).join(", ")} serve${missing.length === 1 ? "s" : ""} traffic but ${missing.length === 1 ? "has" : "have"} no backend in the traffic target`,
    };
  const keys = [...new Set(Object.values(backends))];
  const byBackend = shares.map((s) => ({ version: backends[s.version]!, pct: s.pct }));
  return { weights: Object.fromEntries(integerWeights(byBackend, keys, total)) };
}

const sameWeights = (a: Record<string, number> | null, b: Record<string, number>) =>
  !!a && Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);

/** A target's sync state, as the API and the rollout status show it. */
export function syncOf(row: TargetRow): TrafficSync {
  const d = desiredWeights(row);
  const desired = "weights" in d ? d.weights : null;
  const lastError = row.lastError ?? ("error" in d ? d.error : null);
  return {
    state:
      row.failures > 0 || "error" in d
        ? "failing"
        : desired && sameWeights(row.applied, desired)
          ? "in_sync"
          : "pending",
    desired,
    applied: row.applied,
    appliedAt: row.appliedAt,
    resourceVersion: row.resourceVersion,
    lastError,
    lastErrorAt: row.lastErrorAt,
    failures: row.failures,
  };
}

export { sameWeights };

/** Registering, reading and removing a model's traffic target; the reconciler does the writing. */
export function createTrafficService({ db, clock }: { db: Db; clock: Clock }) {
  async function modelId(q: Queryable, model: string) {
    const id = await modelIdByName(q, model);
    if (!id) throw notFound(`model '${model}'`);
    return id;
  }
  const view = (row: TargetRow): TrafficTargetView => ({
    model: row.model,
    target: row.target,
    sync: syncOf(row),
  });

  return {
    async get(model: string): Promise<TrafficTargetView> {
      const row = await targetOf(db, await modelId(db, model));
      if (!row) throw notFound(`a traffic target for '${model}'`);
      return view(row);
    },

    /** The sync state of a model's target, or null when it has none (the rollout status shows it). */
    async syncFor(q: Queryable, id: string): Promise<TrafficSync | null> {
      const row = await targetOf(q, id);
      return row ? syncOf(row) : null;
    },

    /** The current target of a model, or null (spec apply compares before it sets). */
    async targetIn(q: Queryable, model: string): Promise<TrafficTarget | null> {
      return (await targetOf(q, await modelId(q, model)))?.target ?? null;
    },

    /**
     * Registers or replaces a model's target, checked against its versions, with its audit
     * event; in the caller's transaction when given one (spec apply).
     */
    async set(
      ctx: RequestContext,
      model: string,
      target: TrafficTarget,
      opts: { tx?: Tx; field?: string } = {},
    ): Promise<TrafficTargetView | null> {
      const field = opts.field ?? "body";
      const run = async (tx: Tx) => {
        const id = await modelId(tx, model);
        await lockModel(tx, id);
        const known = new Map((await versionStatuses(tx, id)).map((v) => [v.version, v.status]));
        const problems: { field: string; reason: string }[] = [];
        const seen = new Map<string, string>();
        for (const [version, backend] of Object.entries(target.backends)) {
          const f = `${field ? `${field}.` : ""}backends.${version}`;
          if (!known.has(version))
            problems.push({ field: f, reason: `version ${version} of '${model}' is not registered` });
          else if (known.get(version) === "retired")
            problems.push({ field: f, reason: `version ${version} of '${model}' is retired` });
          const other = seen.get(backend);
          if (other)
            problems.push({ field: f, reason: `backend '${backend}' is already named for ${other}` });
          seen.set(backend, version);
        }
        const owner = await sameRouteOwner(tx, id, target);
        if (owner)
          problems.push({
            field: field ? `${field}.name` : "name",
            reason: `${target.kind} ${target.namespace}/${target.name} rule ${target.ruleIndex} is already steered by '${owner}'`,
          });
        if (problems.length)
          throw new AppError("invalid_input", `${problems[0]!.field}: ${problems[0]!.reason}`, {
            errors: problems,
          });
        const before = await targetOf(tx, id);
        await upsertTarget(tx, id, target, clock.now().toISOString(), ctx.actor);
        await recordAudit(tx, ctx, clock.now(), {
          action: "traffic_target.set",
          subjectType: "model",
          subjectId: id,
          before: before?.target ?? null,
          after: target,
        });
      };
      if (opts.tx) {
        await run(opts.tx);
        return null;
      }
      await db.transaction(run);
      return this.get(model);
    },

    /** Stops steering the route; the weights it carries stay as they are. */
    async remove(ctx: RequestContext, model: string): Promise<void> {
      await db.transaction(async (tx) => {
        const id = await modelId(tx, model);
        await lockModel(tx, id);
        const before = await targetOf(tx, id);
        if (!before) throw notFound(`a traffic target for '${model}'`);
        await deleteTarget(tx, id);
        await recordAudit(tx, ctx, clock.now(), {
          action: "traffic_target.removed",
          subjectType: "model",
          subjectId: id,
          before: before.target,
          after: null,
        });
      });
    },
  };
}

export type TrafficService = ReturnType<typeof createTrafficService>;
