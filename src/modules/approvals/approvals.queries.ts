import {
  type ApprovalRule,
  type CurrentFacts,
  evaluate,
  type RequestFacts,
  type Requirements,
  requirementsFor,
  strictestOf,
  type Verdict,
} from "../../engines/policy/approval-policy.ts";
import type { ReleaseGate } from "../../engines/policy/gates.ts";
import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import type { Db, Queryable } from "../../store/db.ts";
import { validateCard } from "../cards/index.ts";
import { getVersionById, modelFacts, readPolicy, scopeIds } from "../registry/index.ts";
import type { ApprovalRequest } from "./approvals.schemas.ts";
import * as store from "./approvals.store.ts";

export interface GateResult {
  ok: boolean;
  requestId: string | null;
  unmet: { requirement: string; reason: string }[];
}

/**
 * The read side of approvals: what a request must meet, how it stands (now or at a past
 * moment), the inbox, and the production gate. The service's writes judge through the same
 * functions.
 */
export function createApprovalReads({ db, clock }: { db: Db; clock: Clock }) {
  const rules = async (q: Queryable) => ((await store.readRules(q)) ?? []) as ApprovalRule[];
  const gates = async (q: Queryable) => (await store.readGates(q)) as ReleaseGate[];
  const requirementsOf = async (q: Queryable, modelId: string) =>
    requirementsFor(await rules(q), (await modelFacts(q, modelId))!, await gates(q));

  /** The version's card and evidence, now or as they stood at `at`. */
  async function currentFacts(q: Queryable, versionId: string, at?: string): Promise<CurrentFacts> {
    const cards = await q.query<{ content: unknown; content_hash: string }>(
      `SELECT content, content_hash FROM card_revisions WHERE version_id = $1 AND ($2::timestamptz IS NULL OR created_at <= $2)
        ORDER BY revision DESC LIMIT 1`,
      [versionId, at ?? null],
    );
    const card = cards[0];
    const required = (await readPolicy(q)).requiredCardSections;
    const validation = card ? validateCard(card.content as never, required) : null;
    return {
      cardHash: card?.content_hash ?? null,
      cardComplete: validation?.complete ?? false,
      cardMissing: validation?.missing.map((m) => m.section) ?? [],
      evidence: await store.latestEvidence(q, versionId, at),
    };
  }

  /**
   * What a request must meet: the requirements it was made under AND those of the policy in
   * force now. A rule or gate adopted since binds an open or approved request too (sign-offs
   * collected count where they still satisfy it), so nothing reaches traffic around it.
   */
  async function effectiveRequirements(q: Queryable, r: store.RequestRow) {
    const v = await getVersionById(q, r.versionId);
    return v ? strictestOf(r.requirements, await requirementsOf(q, v.modelId)) : r.requirements;
  }

  async function verdictOf(
    q: Queryable,
    r: store.RequestRow,
    at: Date,
    signoffs?: store.SignoffRow[],
    /** What to judge by: default the effective requirements (see above). */
    requirements?: Requirements,
  ): Promise<Verdict> {
    const facts: RequestFacts = {
      status: r.status,
      cardHash: r.cardHash,
      evidence: r.evidence,
      signoffs: (signoffs ?? (await store.signoffsOf(q, r.id))).filter((s) => new Date(s.signedAt) <= at),
    };
    const req = requirements ?? (await effectiveRequirements(q, r));
    return evaluate(req, facts, await currentFacts(q, r.versionId, at.toISOString()), at);
  }

  async function view(q: Queryable, r: store.RequestRow): Promise<ApprovalRequest> {
    const v = (await getVersionById(q, r.versionId))!;
    const signoffs = await store.signoffsOf(q, r.id);
    const effective = await effectiveRequirements(q, r);
    const verdict = await verdictOf(q, r, clock.now(), signoffs, effective);
    const inForce = r.status === "approved" && verdict.satisfied;
    const live = r.status === "approved" || r.status === "pending";
    const unmet = live ? verdict.unmet : verdict.unmet.slice(0, 1);
    const requirements = live ? effective : r.requirements;
    return { ...r, requirements, model: v.model, version: v.version, signoffs, inForce, unmet };
  }

  return {
    rules,
    gates,
    requirementsOf,
    currentFacts,
    effectiveRequirements,
    verdictOf,
    view,

    async list(f: { model?: string; version?: string; status?: string; limit: number }) {
      const scope = await scopeIds(db, f);
      const rows = await store.listRequests(db, { ...scope, status: f.status, limit: f.limit });
      return Promise.all(rows.map((r) => view(db, r)));
    },

    /** Pending requests the caller could sign now: a role they hold is still short of its quorum. */
    async inbox(ctx: RequestContext) {
      const roles = ctx.roles ?? [];
      const out: (ApprovalRequest & { canSignAs: string[] })[] = [];
      for (const r of await store.listRequests(db, { status: "pending", limit: 500 })) {
        const full = await view(db, r);
        const v = (await getVersionById(db, r.versionId))!;
        if (ctx.actor === r.requestedBy || ctx.actor === v.createdBy) continue;
        const mine = full.signoffs.filter((s) => s.signer === ctx.actor);
        if (mine.length && !full.requirements.allowSameSignerForMultipleRoles) continue;
        const canSignAs = Object.keys(full.requirements.roles).filter(
          (role) =>
            roles.includes(role) &&
            !mine.some((s) => s.role === role) &&
            full.unmet.some((u) => u.requirement === `role:${role}`),
        );
        if (canSignAs.length) out.push({ ...full, canSignAs });
      }
      return out;
    },

    /**
     * Whether `version` may enter production now: an approved request whose sign-offs,
     * card and evidence still stand. Unmet requirements are listed when it may not.
     */
    async gate(tx: Queryable, versionId: string): Promise<GateResult> {
      const requests = await store.listRequests(tx, { versionId, limit: 50 });
      for (const r of requests.filter((x) => x.status === "approved")) {
        const verdict = await verdictOf(tx, r, clock.now());
        if (verdict.satisfied) return { ok: true, requestId: r.id, unmet: [] };
      }
      const latest = requests[0];
      if (latest?.status === "pending" || latest?.status === "approved")
        return { ok: false, requestId: latest.id, unmet: (await verdictOf(tx, latest, clock.now())).unmet };
      const v = (await getVersionById(tx, versionId))!;
      const req = await requirementsOf(tx, v.modelId);
      const needs = [
        ...Object.entries(req.roles).map(([role, n]) => ({
          requirement: `role:${role}`,
          reason: `needs ${n} ${role} sign-off(s)`,
        })),
        ...req.evidence.map((k) => ({ requirement: `evidence:${k}`, reason: `needs ${k} evidence` })),
      ];
      const why = latest
        ? `the last request (${latest.id}) was ${latest.status}`
        : "no approval was requested";
      return {
        ok: false,
        requestId: null,
        unmet: [{ requirement: "approval", reason: `${why}: request one` }, ...needs],
      };
    },

    /** The approvals in force for each version of a model at time `at`, with their sign-offs and evidence. */
    async inForceAt(modelId: string, at: Date) {
      const rows = await db.query<{ id: string }>(
        `SELECT r.id FROM approval_requests r JOIN model_versions v ON v.id = r.version_id
          WHERE v.model_id = $1 AND r.decided_at <= $2 AND r.status IN ('approved', 'voided')
            AND (r.voided_at IS NULL OR r.voided_at > $2)
          ORDER BY r.decided_at`,
        [modelId, at.toISOString()],
      );
      const out = [];
      for (const { id } of rows) {
        const r = (await store.getRequest(db, id))!;
        const signoffs = (await store.signoffsOf(db, id)).filter((s) => new Date(s.signedAt) <= at);
        // A past moment is judged by the requirements of then, not by today's policy.
        const verdict = await verdictOf(db, { ...r, status: "approved" }, at, signoffs, r.requirements);
        if (!verdict.satisfied) continue;
        const v = (await getVersionById(db, r.versionId))!;
        out.push({
          requestId: id,
          version: v.version,
          requestedBy: r.requestedBy,
          approvedAt: r.decidedAt,
          summary: r.summary,
          signoffs,
          cardHash: r.cardHash,
          evidence: r.evidence,
        });
      }
      return out;
    },

    /**
     * Approving sign-offs per role (distinct signers) on the version's latest approved request,
     * or null without one: what a segment's `require.roles` reads (issue 19).
     */
    async signedRoles(q: Queryable, versionId: string): Promise<Record<string, number> | null> {
      const r = (await store.listRequests(q, { versionId, limit: 50 })).find((x) => x.status === "approved");
      if (!r) return null;
      const signers = new Map<string, Set<string>>();
      for (const s of await store.signoffsOf(q, r.id))
        if (s.decision === "approve") signers.set(s.role, (signers.get(s.role) ?? new Set()).add(s.signer));
      return Object.fromEntries([...signers].map(([role, who]) => [role, who.size]));
    },
  };
}
