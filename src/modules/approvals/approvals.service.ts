import { gatesFor, type ReleaseGate } from "../../engines/policy/gates.ts";
import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { AppError, conflict, invalid, notFound } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";
import type { Db, Queryable, Tx } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import { findVersion, getVersionById, lockModelByName, modelFacts, type Version } from "../registry/index.ts";
import { createApprovalReads } from "./approvals.queries.ts";
import type {
  ApprovalPolicy,
  ApprovalRequest,
  EvidenceCreate,
  PolicyChange,
  Sign,
} from "./approvals.schemas.ts";
import * as store from "./approvals.store.ts";
import { checkSegmentGates, type PolicyWrite, planPolicyWrite } from "./policy-write.ts";
import { refusedByGates } from "./release-gates.ts";

export type { GateResult } from "./approvals.queries.ts";

/**
 * Told, inside the signing transaction, that a version's approval request has just been
 * approved (the retraining module moves a task whose candidate it is); a throw undoes the sign-off.
 */
export type OnApproved = (tx: Tx, ctx: RequestContext, versionId: string, requestId: string) => Promise<void>;

export function createApprovalsService({
  db,
  clock,
  onApproved,
  segmentsChanged,
}: {
  db: Db;
  clock: Clock;
  onApproved?: OnApproved;
  /** Called in the transaction of a policy write that changes the segments or gates: throws to refuse it. */
  segmentsChanged?: (tx: Tx) => Promise<void>;
}) {
  const reads = createApprovalReads({ db, clock });
  const { rules, gates, requirementsOf, currentFacts, effectiveRequirements, verdictOf, view } = reads;

  async function versionOrThrow(q: Queryable, model: string, version: string): Promise<Version> {
    const v = await findVersion(q, model, version);
    if (!v) throw notFound(`version '${version}' of model '${model}'`);
    return v;
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

  async function policyOf(q: Queryable): Promise<ApprovalPolicy> {
    return {
      rules: (await rules(q)) as ApprovalPolicy["rules"],
      gates: (await gates(q)) as ApprovalPolicy["gates"],
      ...((await store.readFlagPolicy(q)) as Pick<ApprovalPolicy, "segments" | "flagChanges">),
    };
  }

  const service = {
    getPolicy: (q: Queryable = db) => policyOf(q),

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
      input: PolicyWrite,
      opts: { dryRun?: boolean; allowRemovals?: boolean } = {},
    ): Promise<{ dryRun: boolean; changes: PolicyChange[]; policy: ApprovalPolicy }> {
      return db.transaction(async (tx) => {
        const current = await policyOf(tx);
        // A dry run refuses nothing: it shows what the write would do, removals included.
        const { next, changes } = planPolicyWrite(current, input, opts.allowRemovals || opts.dryRun === true);
        checkSegmentGates(next);
        if (opts.dryRun) return { dryRun: true, changes, policy: next };
        if (changes.length === 0) return { dryRun: false, changes, policy: current };
        const policy = await service.setPolicy(ctx, next, tx);
        return { dryRun: false, changes, policy };
      });
    },

    async setPolicy(ctx: RequestContext, input: PolicyWrite, q?: Tx): Promise<ApprovalPolicy> {
      const policy: ApprovalPolicy = {
        rules: input.rules,
        gates: input.gates ?? [],
        segments: input.segments ?? [],
        flagChanges: input.flagChanges ?? [],
      };
      checkSegmentGates(policy);
      const run = async (tx: Tx) => {
        const before = await policyOf(tx);
        await store.writeRules(tx, policy.rules, clock.now().toISOString(), policy.gates, policy);
        // A segment adopted or changed binds the flags already written (issue 19).
        if (
          JSON.stringify([before.segments, before.gates]) !== JSON.stringify([policy.segments, policy.gates])
        )
          await segmentsChanged?.(tx);
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
          await onApproved?.(tx, ctx, r.versionId, r.id);
        }
        return view(tx, (await store.getRequest(tx, r.id))!);
      });
    },

    get: async (id: string) => view(db, await requestOrThrow(db, id)),

    list: reads.list,
    inbox: reads.inbox,
    gate: reads.gate,
    signedRoles: reads.signedRoles,

    voidRequests,

    inForceAt: reads.inForceAt,
  };
  return service;
}

export type ApprovalsService = ReturnType<typeof createApprovalsService>;
