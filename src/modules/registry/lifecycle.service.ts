import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { AppError, conflict, invalid, notFound } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";
import type { Db, Queryable, Tx } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import { aliasesAt, aliasHistory, currentAliasTarget, moveAlias } from "./aliases.store.ts";
import { allowedTransitions, canTransition, type DEFAULT_RETENTION, planRetention } from "./lifecycle.ts";
import { readPolicy } from "./policy.ts";
import type { Status, Version } from "./registry.schemas.ts";
import * as store from "./registry.store.ts";

/** Decides whether a version may enter production (the approvals module provides it). */
export type ProductionGate = (
  tx: Queryable,
  versionId: string,
) => Promise<{ ok: boolean; requestId: string | null; unmet: { requirement: string; reason: string }[] }>;

/**
 * Told, inside the transaction, that a version has just entered production (the retraining
 * module moves a task whose candidate it is); a throw undoes the promotion.
 */
export type EnteredProduction = (tx: Tx, ctx: RequestContext, version: Version) => Promise<void>;

/** Status transitions, aliases and retention: the parts of the registry that move over time. */
export function createLifecycle({
  db,
  clock,
  productionGate,
  enteredProduction,
  segmentsAffected,
}: {
  db: Db;
  clock: Clock;
  productionGate: ProductionGate;
  enteredProduction?: EnteredProduction;
  /** See RegistryDeps.segmentsAffected: an alias move a flag's segment would not allow throws. */
  segmentsAffected?: (tx: Tx, model: string, what: string, field: string) => Promise<void>;
}) {
  async function lockModel(q: Queryable, name: string) {
    const m = await store.findModelRow(q, name, true);
    if (!m) throw notFound(`model '${name}'`);
    return m;
  }

  async function versionIn(q: Queryable, model: string, version: string): Promise<Version> {
    const v = await store.getVersion(q, model, version);
    if (!v) throw notFound(`version '${version}' of model '${model}'`);
    return v;
  }

  async function transitionTx(tx: Tx, ctx: RequestContext, v: Version, to: Status, reason: string) {
    if (!canTransition(v.status, to)) {
      const allowed = allowedTransitions(v.status);
      throw new AppError(
        "conflict",
        `cannot move ${v.model}@${v.version} from ${v.status} to ${to}; allowed: ${allowed.length ? allowed.join(", ") : "none (final)"}`,
        {
          errors: [{ field: "status", reason: `illegal transition ${v.status} → ${to}` }],
          details: { allowed },
        },
      );
    }
    if (to === "deprecated" || to === "retired") {
      const pointing = v.aliases;
      if (pointing.length)
        throw conflict(
          `${v.model}@${v.version} is the target of alias ${pointing.join(", ")}; move it first`,
          [{ field: "status", reason: `aliased by ${pointing.join(", ")}` }],
        );
    }
    const at = clock.now().toISOString();
    await store.setStatus(tx, {
      id: newId("vsh"),
      versionId: v.id,
      from: v.status,
      to,
      reason,
      actor: ctx.actor,
      at,
    });
    await recordAudit(tx, ctx, clock.now(), {
      action: "version.status_changed",
      subjectType: "model_version",
      subjectId: v.id,
      before: { status: v.status },
      after: { status: to },
      reason,
    });
  }

  async function applyRetention(tx: Tx, ctx: RequestContext, modelId: string, modelRetention: unknown) {
    const policy = (modelRetention as typeof DEFAULT_RETENTION | null) ?? (await readPolicy(tx)).retention;
    const versions = await store.versionsOfModel(tx, modelId);
    const plan = planRetention(
      versions.map((v) => ({
        id: v.id,
        status: v.status,
        promotedAt: v.promotedAt ? new Date(v.promotedAt) : null,
        pinnedByAlias: v.aliases.length > 0,
      })),
      policy,
    );
    const why = `retention: keep ${policy.keepProduction} production, ${policy.keepDeprecated} deprecated`;
    for (const id of plan.deprecate)
      await transitionTx(tx, ctx, (await store.getVersionById(tx, id))!, "deprecated", why);
    for (const id of plan.retire)
      await transitionTx(tx, ctx, (await store.getVersionById(tx, id))!, "retired", why);
  }

  /** Points an alias at a version. `production` promotes it; `canary` marks a development version canary. */
  async function setAliasTx(
    tx: Tx,
    ctx: RequestContext,
    model: string,
    alias: string,
    version: string,
    reason: string,
  ) {
    const m = await lockModel(tx, model);
    let v = await versionIn(tx, model, version);
    if (v.status === "retired")
      throw conflict(`${model}@${version} is retired`, [{ field: "version", reason: "retired" }]);
    const previousId = await currentAliasTarget(tx, m.id, alias);
    if (previousId === v.id) return v;
    const previousStatus = v.status;
    if (alias === "production") {
      // Entering production needs an approval in force. A version still in the production
      // pool (kept for rollback) was approved when it entered and may take the alias back.
      if (v.status !== "production") {
        const gate = await productionGate(tx, v.id);
        if (!gate.ok)
          throw new AppError(
            "precondition_failed",
            `${model}@${version} has no approval in force for production`,
            {
              errors: gate.unmet.map((u) => ({ field: u.requirement, reason: u.reason })),
              details: { unmet: gate.unmet, requestId: gate.requestId },
            },
          );
        await transitionTx(tx, ctx, v, "production", reason || `promoted under approval ${gate.requestId}`);
      } else await store.touchPromotion(tx, v.id, clock.now().toISOString());
    } else if (alias === "canary" && v.status === "development") {
      await transitionTx(tx, ctx, v, "canary", reason || "canary alias set");
    }
    await moveAlias(tx, {
      modelId: m.id,
      alias,
      versionId: v.id,
      previousId,
      reason,
      actor: ctx.actor,
      at: clock.now().toISOString(),
    });
    const previous = previousId ? await store.getVersionById(tx, previousId) : null;
    await recordAudit(tx, ctx, clock.now(), {
      action: "alias.moved",
      subjectType: "model",
      subjectId: m.id,
      before: { alias, version: previous?.version ?? null },
      after: { alias, version: v.version },
      reason,
    });
    if (alias === "production") {
      // A promoted canary is no longer a canary: clear that alias so retention can age it out later.
      const canaryId = await currentAliasTarget(tx, m.id, "canary");
      if (canaryId === v.id) {
        await moveAlias(tx, {
          modelId: m.id,
          alias: "canary",
          versionId: null,
          previousId: v.id,
          reason: "promoted to production",
          actor: ctx.actor,
          at: clock.now().toISOString(),
        });
        await recordAudit(tx, ctx, clock.now(), {
          action: "alias.removed",
          subjectType: "model",
          subjectId: m.id,
          before: { alias: "canary", version: v.version },
          reason: "promoted to production",
        });
      }
      await applyRetention(tx, ctx, m.id, m.retention);
    }
    await segmentsAffected?.(tx, model, `moving ${alias} to ${version}`, "alias");
    v = (await store.getVersionById(tx, v.id))!;
    if (enteredProduction && alias === "production" && previousStatus !== "production")
      await enteredProduction(tx, ctx, v);
    return v;
  }

  return {
    async transition(ctx: RequestContext, model: string, version: string, to: Status, reason: string) {
      return db.transaction(async (tx) => {
        const m = await lockModel(tx, model);
        const v = await versionIn(tx, model, version);
        if (to === "production") return setAliasTx(tx, ctx, model, "production", version, reason);
        await transitionTx(tx, ctx, v, to, reason);
        await applyRetention(tx, ctx, m.id, m.retention);
        return (await store.getVersionById(tx, v.id))!;
      });
    },

    setAlias(ctx: RequestContext, model: string, alias: string, version: string, reason: string) {
      return db.transaction((tx) => setAliasTx(tx, ctx, model, alias, version, reason));
    },

    /** `setAlias` inside the caller's transaction (a rollout's promotion with its own state change). */
    setAliasIn(tx: Tx, ctx: RequestContext, model: string, alias: string, version: string, reason: string) {
      return setAliasTx(tx, ctx, model, alias, version, reason);
    },

    async removeAlias(ctx: RequestContext, model: string, alias: string, reason: string) {
      return db.transaction(async (tx) => {
        const m = await lockModel(tx, model);
        const previousId = await currentAliasTarget(tx, m.id, alias);
        if (!previousId) throw notFound(`alias '${alias}' of model '${model}'`);
        if (alias === "production")
          throw conflict(
            "the production alias cannot be removed, only moved (roll back to a kept version instead)",
            [{ field: "alias", reason: "production is never left empty" }],
          );
        await moveAlias(tx, {
          modelId: m.id,
          alias,
          versionId: null,
          previousId,
          reason,
          actor: ctx.actor,
          at: clock.now().toISOString(),
        });
        const prev = await store.getVersionById(tx, previousId);
        await recordAudit(tx, ctx, clock.now(), {
          action: "alias.removed",
          subjectType: "model",
          subjectId: m.id,
          before: { alias, version: prev?.version ?? null },
          reason,
        });
      });
    },

    /** `aliasHistory` on the caller's transaction. */
    async aliasHistoryIn(tx: Tx, model: string, alias?: string) {
      const m = await store.findModelRow(tx, model);
      if (!m) throw notFound(`model '${model}'`);
      return aliasHistory(tx, m.id, alias);
    },

    async aliasHistory(model: string, alias?: string) {
      const m = await store.findModelRow(db, model);
      if (!m) throw notFound(`model '${model}'`);
      return aliasHistory(db, m.id, alias);
    },

    /** The model as it stood at time `at`: each alias target and each version's status then. */
    async stateAt(model: string, at: string) {
      const t = new Date(at);
      if (Number.isNaN(t.getTime())) throw invalid("query.at", "must be an ISO 8601 time");
      const m = await store.findModelRow(db, model);
      if (!m) throw notFound(`model '${model}'`);
      const aliases = await aliasesAt(db, m.id, t.toISOString());
      const rows = await db.query<{ version: string; status: string }>(
        `SELECT v.version, (SELECT h.to_status FROM version_status_history h WHERE h.version_id = v.id AND h.at <= $2
                             ORDER BY h.at DESC, h.id DESC LIMIT 1) AS status
           FROM model_versions v WHERE v.model_id = $1 AND v.created_at <= $2`,
        [m.id, t.toISOString()],
      );
      return {
        model,
        at: t.toISOString(),
        production: aliases.production ?? null,
        aliases,
        versions: rows
          .filter((r) => r.status)
          .map((r) => ({ version: r.version, status: r.status as Status })),
      };
    },

    async versionHistory(model: string, version: string) {
      const v = await versionIn(db, model, version);
      return store.statusHistory(db, v.id);
    },
  };
}
