// Flag changes that wait for sign-offs (issue 19, point 4): where the approval policy's
// `flagChanges` rules say so, a write to a flag (create, update, enable, disable, delete) does
// not apply; it becomes a change request holding the flag as the write would leave it. Signers
// of the roles the rules name approve it (never its requester; one person one role unless a
// rule allows more); the last approval applies it in its own transaction, through the same
// write path as any other (release gate, segment gate, route use, revision, audit event), and
// only if the flag has not moved since the change was proposed.

import { randomUUID } from "node:crypto";
import { modelTargets } from "../../engines/flags/index.ts";
import { type ModelFacts, ruleMatches } from "../../engines/policy/match.ts";
import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { AppError, conflict, invalid, notFound } from "../../lib/errors.ts";
import type { Queryable, Tx } from "../../store/db.ts";
import type { FlagChangeRule } from "../approvals/index.ts";
import { recordAudit } from "../audit/index.ts";
import { modelFacts, modelIdByName } from "../registry/index.ts";
import {
  type ChangeRequest,
  type ChangeRequirements,
  type ChangeStatus,
  decideChangeRequest,
  getChangeRequest,
  insertChangeRequest,
  insertChangeSignoff,
  listChangeRequests,
  pendingFor,
} from "./flag-changes.store.ts";
import type { Flag, FlagInput } from "./flags.schemas.ts";
import type { FlagChange } from "./flags.store.ts";

export type { ChangeRequest, ChangeStatus } from "./flag-changes.store.ts";

const DAY = 86_400_000;

/** Whether a rule's `keys` names the flag (`checkout.*` a prefix). */
const keyMatches = (keys: readonly string[], key: string) =>
  keys.some((k) => (k.endsWith("*") ? key.startsWith(k.slice(0, -1)) : key === k));
const emptyMatch = (r: FlagChangeRule) =>
  !r.match.models?.length && !r.match.riskTiers?.length && !r.match.useCases?.length;

/**
 * The rules that govern a change, from the models whose traffic the flag steers (before and
 * after it, and any whose route defers to it) and its key; null when none does.
 */
export function changeRequirements(
  rules: readonly FlagChangeRule[],
  key: string,
  models: readonly ModelFacts[],
): (ChangeRequirements & { expiresAfterDays: number }) | null {
  const applying = rules.filter((r) => {
    if (r.keys && !keyMatches(r.keys, key)) return false;
    if (r.keys && emptyMatch(r)) return true;
    return models.some((m) => ruleMatches(r, m));
  });
  if (!applying.length) return null;
  const roles: Record<string, number> = {};
  for (const r of applying)
    for (const [role, n] of Object.entries(r.roles)) roles[role] = Math.max(roles[role] ?? 0, n);
  return {
    rules: applying.map((r) => r.name),
    roles,
    allowSameSignerForMultipleRoles: applying.every((r) => r.allowSameSignerForMultipleRoles),
    expiresAfterDays: Math.min(...applying.map((r) => r.expiresAfterDays)),
  };
}

/** What the change-request flow needs of the flags service: the write it defers. */
export interface ChangeDeps {
  clock: Clock;
  rules(q: Queryable): Promise<FlagChangeRule[]>;
  /** The models whose route defers to the flag. */
  routedModels(q: Queryable, key: string): Promise<string[]>;
  /** Applies a change as its requester made it (gates, revision, audit event), in `tx`. */
  apply(
    tx: Tx,
    ctx: RequestContext,
    r: ChangeRequest,
    current: Flag | null,
  ): Promise<{ revision: number | null }>;
  current(q: Queryable, key: string): Promise<Flag | null>;
}

export function createFlagChanges(deps: ChangeDeps) {
  const { clock } = deps;
  const now = () => clock.now();

  /** A pending request past its time lapses when next touched (read as lapsed before that). */
  const effective = (r: ChangeRequest): ChangeRequest =>
    r.status === "pending" && Date.parse(r.expiresAt) <= now().getTime() ? { ...r, status: "lapsed" } : r;

  async function audit(tx: Tx, ctx: RequestContext, r: ChangeRequest, action: string, reason = "") {
    await recordAudit(tx, ctx, now(), {
      action: `flag.change_${action}`,
      subjectType: "flag",
      subjectId: r.key,
      after: { changeRequest: r.id, change: r.change, status: r.status },
      reason,
    });
  }

  async function settle(
    tx: Tx,
    ctx: RequestContext,
    r: ChangeRequest,
    status: Exclude<ChangeStatus, "pending">,
    revision?: number | null,
  ) {
    await decideChangeRequest(tx, r.id, {
      status,
      at: now().toISOString(),
      by: ctx.actor,
      appliedRevision: revision ?? null,
    });
    const after = (await getChangeRequest(tx, r.id))!;
    await audit(tx, ctx, after, status);
    return after;
  }

  async function modelsOf(q: Queryable, key: string, flags: (FlagInput | null)[]): Promise<ModelFacts[]> {
    const names = new Set([
      ...flags.flatMap((f) => (f ? modelTargets(f).map((t) => t.model) : [])),
      ...(await deps.routedModels(q, key)),
    ]);
    const out: ModelFacts[] = [];
    for (const name of names) {
      const id = await modelIdByName(q, name);
      const facts = id ? await modelFacts(q, id) : null;
      if (facts) out.push(facts);
    }
    return out;
  }

  return {
    /**
     * Whether this write waits for sign-offs: if so, the change request it becomes (the write
     * itself does not happen); null when it may apply now.
     */
    async propose(
      tx: Tx,
      ctx: RequestContext,
      change: FlagChange,
      before: Flag | null,
      proposed: FlagInput | null,
      reason: string,
      /** The checks the change must pass to apply, run before it is held so that a hopeless one is refused now. */
      precheck: () => Promise<void>,
    ): Promise<ChangeRequest | null> {
      const key = (proposed ?? before)!.key;
      const req = changeRequirements(await deps.rules(tx), key, await modelsOf(tx, key, [before, proposed]));
      if (!req) return null;
      await precheck();
      const open = await pendingFor(tx, key);
      if (open && effective(open).status === "lapsed") await settle(tx, ctx, open, "lapsed");
      else if (open)
        throw conflict(
          `flag ${key} has a change waiting for sign-offs (${open.id}): sign or withdraw it first`,
          [{ field: "key", reason: `change ${open.id} is pending` }],
        );
      const { expiresAfterDays, ...requirements } = req;
      const r = {
        id: `fcr_${randomUUID().replaceAll("-", "").slice(0, 20)}`,
        key,
        change,
        baseRevision: before?.revision ?? null,
        proposed,
        reason,
        requestedBy: ctx.actor,
        requirements,
        createdAt: now().toISOString(),
        expiresAt: new Date(now().getTime() + expiresAfterDays * DAY).toISOString(),
      };
      await insertChangeRequest(tx, r);
      const out = (await getChangeRequest(tx, r.id))!;
      await audit(tx, ctx, out, "requested", reason);
      return out;
    },

    async sign(
      tx: Tx,
      ctx: RequestContext,
      id: string,
      s: { role: string; decision: "approve" | "reject"; comment: string },
    ): Promise<ChangeRequest> {
      const r = await getChangeRequest(tx, id, true);
      if (!r) throw notFound(`flag change ${id}`);
      if (effective(r).status === "lapsed") {
        await settle(tx, ctx, r, "lapsed");
        throw conflict(`change ${id} lapsed at ${r.expiresAt}: propose it again`, [
          { field: "id", reason: "lapsed" },
        ]);
      }
      if (r.status !== "pending")
        throw conflict(`change ${id} is ${r.status}`, [{ field: "id", reason: `change is ${r.status}` }]);
      const { roles, allowSameSignerForMultipleRoles } = r.requirements;
      if (!(s.role in roles))
        throw invalid(
          "body.role",
          `this change needs sign-off from: ${Object.keys(roles).sort().join(", ")}`,
        );
      const forbid = (reason: string) =>
        new AppError("forbidden", reason, { errors: [{ field: "role", reason }] });
      if (!(ctx.roles ?? []).includes(s.role)) throw forbid(`your token does not hold the role '${s.role}'`);
      if (ctx.actor === r.requestedBy) throw forbid("separation of duties: the requester cannot sign");
      if (r.signoffs.some((x) => x.signer === ctx.actor && x.role === s.role))
        throw conflict(`${ctx.actor} already signed as ${s.role}`, [
          { field: "role", reason: "already signed" },
        ]);
      if (!allowSameSignerForMultipleRoles && r.signoffs.some((x) => x.signer === ctx.actor))
        throw forbid(`separation of duties: ${ctx.actor} already signed for another role of this change`);
      await insertChangeSignoff(tx, id, {
        ...s,
        signer: ctx.actor,
        signedAt: now().toISOString(),
        tokenId: ctx.tokenId ?? null,
      });
      const signed = (await getChangeRequest(tx, id))!;
      await audit(tx, ctx, signed, "signed", s.comment);
      if (s.decision === "reject") return settle(tx, ctx, signed, "rejected");
      const approvals = signed.signoffs.filter((x) => x.decision === "approve");
      const met = Object.entries(roles).every(
        ([role, n]) => new Set(approvals.filter((x) => x.role === role).map((x) => x.signer)).size >= n,
      );
      if (!met) return signed;
      const current = await deps.current(tx, r.key);
      if ((current?.revision ?? null) !== r.baseRevision) return settle(tx, ctx, signed, "superseded");
      const { revision } = await deps.apply(tx, ctx, signed, current);
      return settle(tx, ctx, signed, "applied", revision);
    },

    async withdraw(tx: Tx, ctx: RequestContext, id: string): Promise<ChangeRequest> {
      const r = await getChangeRequest(tx, id, true);
      if (!r) throw notFound(`flag change ${id}`);
      if (r.status !== "pending")
        throw conflict(`change ${id} is ${r.status}`, [{ field: "id", reason: `change is ${r.status}` }]);
      if (ctx.actor !== r.requestedBy && !(ctx.roles ?? []).includes("admin"))
        throw new AppError("forbidden", "only the requester (or an admin) withdraws a change", {
          errors: [{ field: "id", reason: "not yours to withdraw" }],
        });
      return settle(tx, ctx, r, "withdrawn");
    },

    get: async (q: Queryable, id: string) => {
      const r = await getChangeRequest(q, id);
      if (!r) throw notFound(`flag change ${id}`);
      return effective(r);
    },

    list: async (q: Queryable, f: { key?: string; status?: ChangeStatus; limit?: number }) => {
      const rows = await listChangeRequests(q, {
        ...(f.key ? { key: f.key } : {}),
        // A pending request past its time reads as lapsed: filter after reading those.
        ...(f.status && f.status !== "lapsed" && f.status !== "pending" ? { status: f.status } : {}),
        limit: f.limit ?? 100,
      });
      const out = rows.map(effective);
      return f.status ? out.filter((r) => r.status === f.status) : out;
    },
  };
}

export type FlagChanges = ReturnType<typeof createFlagChanges>;
