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
import { gatesFor, type ReleaseGate } from "../../engines/policy/gates.ts";
import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { AppError, conflict, invalid, notFound } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";
import type { Db, Queryable, Tx } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import { validateCard } from "../cards/card-sections.ts";
import {
  findVersion,
  getVersionById,
  lockModelByName,
  modelFacts,
  readPolicy,
  scopeIds,
  type Version,
} from "../registry/index.ts";
import type {
  ApprovalPolicy,
  ApprovalRequest,
  EvidenceCreate,
  PolicyChange,
  Sign,
} from "./approvals.schemas.ts";
import * as store from "./approvals.store.ts";
import { planPolicyWrite } from "./policy-write.ts";
import { refusedByGates } from "./release-gates.ts";

export interface GateResult {
  ok: boolean;
  requestId: string | null;
  unmet: { requirement: string; reason: string }[];
}

export function createApprovalsService({ db, clock }: { db: Db; clock: Clock }) {
  const rules = async (q: Queryable) => ((await store.readRules(q)) ?? []) as ApprovalRule[];
  const gates = async (q: Queryable) => (await store.readGates(q)) as ReleaseGate[];
  const requirementsOf = async (q: Queryable, modelId: string) =>
    requirementsFor(await rules(q), (await modelFacts(q, modelId))!, await gates(q));

  async function versionOrThrow(q: Queryable, model: string, version: string): Promise<Version> {
    const v = await findVersion(q, model, version);
    if (!v) throw notFound(`version '${version}' of model '${model}'`);
    return v;
  }

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

  async function requestOrThrow(q: Queryable, id: string, forUpdate = false) {
    const r = await store.getRequest(q, id, forUpdate);
    if (!r) throw notFound(`approval request '${id}'`);
    return r;
  }

  /** Voids the open and approved requests of a version; called when its card or evidence changes. */
  async function voidRequests(
    tx: Tx,
    ctx: RequestContext,
    versionId: string,
    reason: string,
    keep?: (r: store.RequestRow) => boolean,
  ) {
    const open = (await store.listRequests(tx, { versionId, limit: 1000 })).filter(
      (r) => (r.status === "pending" || r.status === "approved") && !keep?.(r),
    );
    for (const r of open) {
      await store.setRequestStatus(tx, r.id, "voided", clock.now().toISOString(), reason);
      await recordAudit(tx, ctx, clock.now(), {
        action: "approval.voided",
        subjectType: "approval_request",
        subjectId: r.id,
        before: { status: r.status },
        after: { status: "voided" },
        reason,
      });
    }
  }

  /**
   * Appends evidence in the caller's transaction (the model row locked by the caller). Requests
   * made on other evidence of this kind no longer stand; the same content hash keeps them.
   */
  async function attachEvidenceTx(
    tx: Tx,
    ctx: RequestContext,
    versionId: string,
    input: Omit<EvidenceCreate, "kind"> & {
      kind: string;
      runId?: string | null;
      details?: Record<string, unknown> | null;
    },
  ) {
    const e = await store.insertEvidence(tx, {
      ...input,
      versionId,
      attachedBy: ctx.actor,
      attachedAt: clock.now().toISOString(),
    });
    await recordAudit(tx, ctx, clock.now(), {
      action: "evidence.attached",
      subjectType: "model_version",
      subjectId: versionId,
      after: e,
    });
    // A request that does not need this kind of evidence is not touched by it.
    await voidRequests(
      tx,
      ctx,
      versionId,
      `${input.kind} evidence changed (${input.contentHash})`,
      (r) =>
        !r.requirements.evidence.includes(input.kind as never) ||
        r.evidence.some((x) => x.kind === input.kind && x.contentHash === input.contentHash),
    );
    return e;
  }

  const service = {
    async getPolicy(): Promise<ApprovalPolicy> {
      return {
        rules: (await rules(db)) as ApprovalPolicy["rules"],
        gates: (await gates(db)) as ApprovalPolicy["gates"],
      };
    },

    /** The release gates that apply to a model (by its use cases, risk tier and name). */
    async gatesFor(q: Queryable, modelId: string): Promise<ReleaseGate[]> {
      return gatesFor(await gates(q), (await modelFacts(q, modelId))!);
    },

    /**
     * A policy write as people make it (API, CLI): gates left out keep the gates in force; the
     * changes are listed rule by rule and gate by gate; a write that removes any is refused
     * unless `allowRemovals`, naming them; `dryRun` answers the changes and writes nothing.
     */
    async writePolicy(
      ctx: RequestContext,
      input: { rules: ApprovalPolicy["rules"]; gates?: ApprovalPolicy["gates"] },
      opts: { dryRun?: boolean; allowRemovals?: boolean } = {},
    ): Promise<{ dryRun: boolean; changes: PolicyChange[]; policy: ApprovalPolicy }> {
      return db.transaction(async (tx) => {
        const current = {
          rules: (await rules(tx)) as ApprovalPolicy["rules"],
          gates: (await gates(tx)) as ApprovalPolicy["gates"],
        };
        // A dry run refuses nothing: it shows what the write would do, removals included.
        const { next, changes } = planPolicyWrite(current, input, opts.allowRemovals || opts.dryRun === true);
        if (opts.dryRun) return { dryRun: true, changes, policy: next };
        if (changes.length === 0) return { dryRun: false, changes, policy: current };
        const policy = await service.setPolicy(ctx, next, tx);
        return { dryRun: false, changes, policy };
      });
    },

    async setPolicy(
      ctx: RequestContext,
      input: Omit<ApprovalPolicy, "gates"> & { gates?: ApprovalPolicy["gates"] },
      q?: Tx,
    ): Promise<ApprovalPolicy> {
      const policy: ApprovalPolicy = { rules: input.rules, gates: input.gates ?? [] };
      const run = async (tx: Tx) => {
        const before = { rules: await rules(tx), gates: await gates(tx) };
        await store.writeRules(tx, policy.rules, clock.now().toISOString(), policy.gates);
        await recordAudit(tx, ctx, clock.now(), {
          action: "approval_policy.updated",
          subjectType: "approval_policy",
          subjectId: "default",
          before,
          after: policy,
        });
        return policy;
      };
      return q ? run(q) : db.transaction(run);
    },

    async requirements(model: string, version: string) {
      const v = await versionOrThrow(db, model, version);
      return requirementsOf(db, v.modelId);
    },

    async attachEvidence(ctx: RequestContext, model: string, version: string, input: EvidenceCreate) {
      return db.transaction(async (tx) => {
        await lockModelByName(tx, model);
        const v = await versionOrThrow(tx, model, version);
        return attachEvidenceTx(tx, ctx, v.id, input);
      });
    },

    attachEvidenceTx,

    listEvidence: async (model: string, version: string) =>
      store.allEvidence(db, (await versionOrThrow(db, model, version)).id),

    async request(
      ctx: RequestContext,
      model: string,
      version: string,
      summary: string,
      evidenceRefs: string[] = [],
    ): Promise<ApprovalRequest> {
      return db.transaction(async (tx) => {
        await lockModelByName(tx, model);
        const v = await versionOrThrow(tx, model, version);
        if (v.status === "retired")
          throw conflict(`${model}@${version} is retired`, [{ field: "version", reason: "retired" }]);
        const req = await requirementsOf(tx, v.modelId);
        const facts = await currentFacts(tx, v.id);
        if (req.evidence.includes("card") && !facts.cardComplete)
          throw new AppError(
            "precondition_failed",
            `the card of ${model}@${version} blocks approval: fix it first`,
            {
              errors: facts.cardHash
                ? facts.cardMissing.map((s) => ({
                    field: `card.sections.${s}`,
                    reason: "required section missing",
                  }))
                : [{ field: "card", reason: "the version has no model card" }],
            },
          );
        const evidence = await store.latestEvidence(tx, v.id);
        const refused = refusedByGates(evidence, req, `${model}@${version}`);
        if (refused) throw refused;
        const row: store.RequestRow = {
          id: newId("apr"),
          versionId: v.id,
          requestedBy: ctx.actor,
          summary,
          evidenceRefs,
          status: "pending",
          cardHash: facts.cardHash,
          evidence: evidence.map((e) => ({
            id: e.id,
            kind: e.kind,
            contentHash: e.contentHash,
            passed: e.passed,
            provenance: e.provenance,
            attachedBy: e.attachedBy,
          })),
          requirements: req,
          createdAt: clock.now().toISOString(),
          decidedAt: null,
          voidedAt: null,
          voidReason: null,
        };
        const pending = await store.listRequests(tx, { versionId: v.id, status: "pending", limit: 1 });
        if (pending[0])
          throw conflict(`request ${pending[0].id} for ${model}@${version} is still pending`, [
            { field: "version", reason: "a request is pending" },
          ]);
        await store.insertRequest(tx, row);
        await recordAudit(tx, ctx, clock.now(), {
          action: "approval.requested",
          subjectType: "approval_request",
          subjectId: row.id,
          after: {
            version: `${model}@${version}`,
            summary,
            requirements: req,
            cardHash: row.cardHash,
            evidence: row.evidence,
          },
        });
        return view(tx, row);
      });
    },

    /**
     * Records one sign-off. The request row is locked first, so stakeholders signing at
     * the same moment are applied one after the other and the decision is taken once.
     */
    async sign(ctx: RequestContext, requestId: string, s: Sign): Promise<ApprovalRequest> {
      return db.transaction(async (tx) => {
        const r = await requestOrThrow(tx, requestId, true);
        if (r.status !== "pending")
          throw conflict(`request ${requestId} is ${r.status}; start a new request`, [
            { field: "requestId", reason: `request is ${r.status}` },
          ]);
        const req = await effectiveRequirements(tx, r);
        if (!(s.role in req.roles))
          throw invalid(
            "body.role",
            `this request needs sign-off from: ${Object.keys(req.roles).join(", ")}`,
          );
        const forbid = (reason: string) =>
          new AppError("forbidden", reason, { errors: [{ field: "role", reason }] });
        if (!(ctx.roles ?? []).includes(s.role))
          throw forbid(`your token does not hold the role '${s.role}'`);
        const v = (await getVersionById(tx, r.versionId))!;
        if (ctx.actor === r.requestedBy) throw forbid("separation of duties: the requester cannot sign");
        if (ctx.actor === v.createdBy) throw forbid("separation of duties: the version's author cannot sign");
        const previous = await store.signoffsOf(tx, r.id);
        if (previous.some((p) => p.signer === ctx.actor && p.role === s.role))
          throw conflict(`${ctx.actor} already signed as ${s.role}`, [
            { field: "role", reason: "already signed" },
          ]);
        if (!req.allowSameSignerForMultipleRoles && previous.some((p) => p.signer === ctx.actor))
          throw forbid(`separation of duties: ${ctx.actor} already signed for another role of this request`);
        const at = clock.now().toISOString();
        const signoff = await store.insertSignoff(tx, {
          ...s,
          requestId: r.id,
          tokenId: ctx.tokenId ?? null,
          signer: ctx.actor,
          signedAt: at,
        });
        await recordAudit(tx, ctx, clock.now(), {
          action: "approval.signed",
          subjectType: "approval_request",
          subjectId: r.id,
          after: signoff,
        });
        if (s.decision === "reject") {
          await store.setRequestStatus(tx, r.id, "rejected", at);
          await recordAudit(tx, ctx, clock.now(), {
            action: "approval.rejected",
            subjectType: "approval_request",
            subjectId: r.id,
            reason: s.comment,
          });
        } else if ((await verdictOf(tx, r, clock.now(), [...previous, signoff], req)).satisfied) {
          await store.setRequestStatus(tx, r.id, "approved", at);
          await recordAudit(tx, ctx, clock.now(), {
            action: "approval.approved",
            subjectType: "approval_request",
            subjectId: r.id,
          });
        }
        return view(tx, (await store.getRequest(tx, r.id))!);
      });
    },

    get: async (id: string) => view(db, await requestOrThrow(db, id)),

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

    voidRequests,

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
  };
  return service;
}

export type ApprovalsService = ReturnType<typeof createApprovalsService>;
