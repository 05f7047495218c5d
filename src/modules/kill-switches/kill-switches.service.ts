import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { AppError, conflict, invalid, notFound } from "../../lib/errors.ts";
import { PROVIDER_KINDS } from "../../providers/registrations.ts";
import type { Db } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import { versionStatusByName } from "../registry/index.ts";
import type { EngageInput, KillSwitch } from "./kill-switches.schemas.ts";
import { engagedOn, insertSwitch, listSwitches, lockSwitch, releaseSwitch } from "./kill-switches.store.ts";

const VERSION_TARGET = /^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)@(\S+)$/;

/**
 * Kill switches: take a version, or every version on a provider, out of service on every
 * replica. Engaging or releasing writes the row and its audit event in one transaction; the
 * audit event's NOTIFY makes every gateway re-read its routing snapshot (docs/replicas.md).
 */
export function createKillSwitchesService({ db, clock }: { db: Db; clock: Clock }) {
  /** The stored target of an engage request: a version's id, or the provider's name. */
  async function targetOf(
    input: EngageInput,
  ): Promise<{ key: string; versionId: string | null; label: string }> {
    const t = input.target.trim();
    if (input.scope === "provider") {
      if (!PROVIDER_KINDS.includes(t))
        throw invalid("body.target", `unknown provider '${t}'; one of ${PROVIDER_KINDS.join(", ")}`);
      return { key: t, versionId: null, label: t };
    }
    const m = VERSION_TARGET.exec(t);
    if (!m) throw invalid("body.target", "a version is named model@version, e.g. support-assistant@1.2.0");
    const [, model, version] = m as unknown as [string, string, string];
    const v = await versionStatusByName(db, model, version);
    if (!v) throw invalid("body.target", `version ${version} of '${model}' is not registered`);
    if (v.status === "retired")
      throw invalid("body.target", `${model}@${version} is retired: it serves nowhere already`);
    return { key: v.id, versionId: v.id, label: `${model}@${version}` };
  }

  return {
    async engage(ctx: RequestContext, input: EngageInput): Promise<KillSwitch> {
      const target = await targetOf(input);
      return db.transaction(async (tx) => {
        const already = await engagedOn(tx, input.scope, target.key);
        if (already)
          throw conflict(
            `${already.target} is already switched off by ${already.id} (${already.engagedBy}: ${already.reason})`,
            [{ field: "body.target", reason: `already switched off by ${already.id}` }],
            { killSwitch: already.id },
          );
        const now = clock.now();
        const engaged = await insertSwitch(tx, {
          scope: input.scope,
          target: target.key,
          versionId: target.versionId,
          label: target.label,
          reason: input.reason,
          actor: ctx.actor,
          at: now,
        });
        await recordAudit(tx, ctx, now, {
          action: "kill_switch.engaged",
          subjectType: "kill_switch",
          subjectId: engaged.id,
          after: engaged,
          reason: input.reason,
        });
        return engaged;
      });
    },

    async release(ctx: RequestContext, id: string, reason: string): Promise<KillSwitch> {
      return db.transaction(async (tx) => {
        const before = await lockSwitch(tx, id);
        if (!before) throw notFound(`kill switch '${id}'`);
        if (before.state === "released")
          throw new AppError(
            "conflict",
            `${id} was released already, by ${before.releasedBy} at ${before.releasedAt}`,
            {
              errors: [{ field: "id", reason: "already released" }],
            },
          );
        const now = clock.now();
        const after = await releaseSwitch(tx, id, { reason, actor: ctx.actor, at: now });
        await recordAudit(tx, ctx, now, {
          action: "kill_switch.released",
          subjectType: "kill_switch",
          subjectId: id,
          before,
          after,
          reason,
        });
        return after;
      });
    },

    list: (o: { state: "engaged" | "released" | "all"; limit: number }) => listSwitches(db, o),
  };
}

export type KillSwitchesService = ReturnType<typeof createKillSwitchesService>;
