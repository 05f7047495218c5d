import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { RequestContext } from "../../http/context.ts";
import { AppError } from "../../lib/errors.ts";
import { allStoreTargets, type Harness, openHarness, SIM_PARAMS } from "../../test-support/stores.ts";
import { SECTION_KEYS } from "../cards/card-sections.ts";

const who = (actor: string, ...roles: string[]): RequestContext => ({
  actor,
  roles,
  requestId: `t-${actor}`,
});
const ENG = who("erin", "engineering");
const ENG2 = who("eli", "engineering");
const COMP = who("cora", "compliance");
const SEC = who("sam", "security");
const AUTHOR = who("ada", "engineering");
const ADMIN = who("root", "admin");

const CARD = {
  metadata: { license: "mit" },
  sections: Object.fromEntries(SECTION_KEYS.map((k) => [k, `${k} text`])),
  extraSections: [],
};

const code = async (p: Promise<unknown>, expected: AppError["code"], match?: RegExp) =>
  assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, expected, err.message);
    if (match) assert.match(`${err.message} ${JSON.stringify(err.errors)}`, match);
    return true;
  });

for (const target of allStoreTargets()) {
  describe(`approvals on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let n = 0;
    before(async () => {
      h = await openHarness(target);
      await h.services.registry.createModel(AUTHOR, {
        name: "bot",
        owner: "o",
        description: "",
        useCases: ["support"],
        riskTier: "high",
        tags: [],
      });
      await h.services.approvals.setPolicy(ADMIN, {
        rules: [
          {
            name: "high-risk",
            match: { riskTiers: ["high"] },
            roles: { engineering: 1, compliance: 1 },
            evidence: ["card", "benchmark"],
            acceptAttested: ["benchmark"],
            signoffTtlDays: 30,
            allowSameSignerForMultipleRoles: false,
          },
        ],
      });
    });
    after(async () => h.cleanup());

    /** A fresh version with a complete card and passing benchmark evidence. */
    async function version(): Promise<string> {
      const v = `1.${++n}.0`;
      await h.services.registry.registerVersion(AUTHOR, "bot", {
        version: v,
        provider: "simulator",
        providerModelId: "sim",
        parameters: SIM_PARAMS,
        changelog: "",
        metrics: {},
        limitations: [],
        tags: [],
        card: CARD,
      });
      await h.services.approvals.attachEvidence(AUTHOR, "bot", v, {
        kind: "benchmark",
        uri: `s3://evals/${v}.json`,
        contentHash: `sha256:${"a".repeat(64)}`,
        passed: true,
        summary: "",
      });
      return v;
    }
    const request = (v: string, as = AUTHOR) =>
      h.services.approvals.request(as, "bot", v, `ship ${v}`, [`https://ci/${v}`]);
    const sign = (
      ctx: RequestContext,
      id: string,
      role: string,
      decision: "approve" | "reject" = "approve",
    ) =>
      h.services.approvals.sign(ctx, id, {
        role,
        decision,
        comment: `${decision} by ${ctx.actor}`,
        evidenceRefs: [],
      });
    const promote = (v: string) => h.services.registry.setAlias(ADMIN, "bot", "production", v, "release");

    test("every required role and the evidence approve: then, and only then, production", async () => {
      const v = await version();
      const r = await request(v);
      assert.deepEqual(r.requirements.roles, { engineering: 1, compliance: 1 });
      assert.deepEqual(r.evidenceRefs, [`https://ci/${v}`]);
      assert.deepEqual(
        r.evidence.map((e) => e.kind),
        ["benchmark"],
      );
      await assert.rejects(promote(v), (err: AppError) => {
        assert.equal(err.code, "precondition_failed");
        assert.deepEqual(err.errors.map((e) => e.field).sort(), ["role:compliance", "role:engineering"]);
        return true;
      });
      const afterEng = await sign(ENG, r.id, "engineering");
      assert.equal(afterEng.status, "pending");
      const approved = await sign(COMP, r.id, "compliance");
      assert.equal(approved.status, "approved");
      assert.equal(approved.inForce, true);
      assert.deepEqual(
        approved.signoffs.map((s) => [s.signer, s.role]),
        [
          ["erin", "engineering"],
          ["cora", "compliance"],
        ],
      );
      const promoted = await promote(v);
      assert.equal(promoted.status, "production");
    });

    test("a rule or gate adopted after a request was opened binds it: no promotion, rollout or shadow around it", async () => {
      const v = await version();
      const r = await request(v);
      await sign(ENG, r.id, "engineering");
      const before = await h.services.approvals.getPolicy();
      // A release gate for the model's use case, and a security sign-off, adopted after the request.
      await h.services.approvals.setPolicy(ADMIN, {
        rules: [
          ...before.rules,
          {
            name: "security-review",
            match: { useCases: ["support"] },
            roles: { security: 1 },
            evidence: [],
            signoffTtlDays: 30,
            allowSameSignerForMultipleRoles: false,
          },
        ],
        gates: [{ name: "support-release", match: { useCases: ["support"] }, successRate: { min: 0.85 } }],
      });
      try {
        // The compliance sign-off completes what the request was made under, not what is in force.
        const signed = await sign(COMP, r.id, "compliance");
        assert.notEqual(signed.inForce, true);
        await code(promote(v), "precondition_failed", /role:security/);
        await code(promote(v), "precondition_failed", /evidence:benchmark-passed/);
        const gate = await h.services.approvals.gate(
          h.db,
          (await h.services.registry.getVersion("bot", v)).id,
        );
        assert.equal(gate.ok, false);
        assert.deepEqual(gate.unmet.map((u) => u.requirement).sort(), [
          "evidence:benchmark-passed",
          "role:security",
        ]);
        // The security sign-off collected now counts; the gate's evaluation is still missing.
        await sign(SEC, r.id, "security");
        await code(promote(v), "precondition_failed", /evidence:benchmark-passed/);
      } finally {
        await h.services.approvals.setPolicy(ADMIN, before);
      }
    });

    test("a missing role blocks promotion, naming it", async () => {
      const v = await version();
      const r = await request(v);
      await sign(COMP, r.id, "compliance");
      await code(promote(v), "precondition_failed", /role:engineering.*0 of 1 engineering/);
    });

    test("separation of duties: the requester and the author cannot sign; one person cannot sign two roles", async () => {
      const v = await version();
      const r = await request(v, ENG2);
      await code(sign(ENG2, r.id, "engineering"), "forbidden", /requester/);
      await code(sign(AUTHOR, r.id, "engineering"), "forbidden", /author/);
      const both = who("bo", "engineering", "compliance");
      await sign(both, r.id, "engineering");
      await code(sign(both, r.id, "compliance"), "forbidden", /another role/);
      await code(
        sign(ENG, r.id, "security"),
        "invalid_input",
        /needs sign-off from: (engineering, compliance|compliance, engineering)/,
      );
      await code(sign(who("x", "viewer"), r.id, "compliance"), "forbidden", /does not hold the role/);
    });

    test("one rejection rejects the request; a new request starts over", async () => {
      const v = await version();
      const r = await request(v);
      await sign(ENG, r.id, "engineering");
      const rejected = await sign(COMP, r.id, "compliance", "reject");
      assert.equal(rejected.status, "rejected");
      await code(sign(ENG2, r.id, "engineering"), "conflict", /rejected/);
      await code(promote(v), "precondition_failed", /rejected/);
      const again = await request(v);
      assert.equal(again.signoffs.length, 0);
      await sign(ENG, again.id, "engineering");
      await sign(COMP, again.id, "compliance");
      assert.equal((await promote(v)).status, "production");
    });

    test("expiry voids a sign-off", async () => {
      const v = await version();
      const r = await request(v);
      await sign(ENG, r.id, "engineering");
      h.clock.advance(31 * 86_400_000);
      const still = await sign(COMP, r.id, "compliance");
      assert.equal(still.status, "pending", "the engineering sign-off expired before the quorum was met");
      assert.match(JSON.stringify(still.unmet), /expired: erin/);
      await sign(ENG2, r.id, "engineering");
      assert.equal((await h.services.approvals.get(r.id)).status, "approved");
      h.clock.advance(31 * 86_400_000);
      await code(promote(v), "precondition_failed", /role:/);
    });

    test("a card revision after sign-off voids the approval", async () => {
      const v = await version();
      const r = await request(v);
      await sign(ENG, r.id, "engineering");
      await sign(COMP, r.id, "compliance");
      await h.services.cards.save(AUTHOR, "bot", v, {
        ...CARD,
        sections: { ...CARD.sections, caveats_and_recommendations: "changed" },
      });
      const voided = await h.services.approvals.get(r.id);
      assert.equal(voided.status, "voided");
      assert.match(voided.voidReason ?? "", /card revised/);
      await code(promote(v), "precondition_failed", /voided/);
    });

    test("new evidence of a required kind voids the approval; an incomplete card blocks the request", async () => {
      const v = await version();
      const r = await request(v);
      await sign(ENG, r.id, "engineering");
      await sign(COMP, r.id, "compliance");
      await h.services.approvals.attachEvidence(AUTHOR, "bot", v, {
        kind: "benchmark",
        uri: "s3://evals/rerun.json",
        contentHash: `sha256:${"b".repeat(64)}`,
        passed: true,
        summary: "",
      });
      assert.equal((await h.services.approvals.get(r.id)).status, "voided");
      await h.services.cards.save(AUTHOR, "bot", v, { ...CARD, sections: { model_details: "only this" } });
      await code(request(v), "precondition_failed", /card\.sections\.intended_use/);
    });

    test("evidence says who vouches for it; a rule that does not accept attested reports is not met by one", async () => {
      const v = await version();
      const list = await h.request(`/api/v1/models/bot/versions/${v}/evidence`);
      const [e] = (await list.json()) as { provenance: string; attachedBy: string; runId: string | null }[];
      assert.deepEqual([e?.provenance, e?.attachedBy, e?.runId], ["attested", AUTHOR.actor, null]);
      const r = await request(v);
      assert.deepEqual(
        r.evidence.map((x) => [x.kind, x.provenance, x.attachedBy]),
        [["benchmark", "attested", AUTHOR.actor]],
      );
      // The policy stops accepting attested benchmark reports: the pending request's report no longer counts.
      const policy = await h.services.approvals.getPolicy();
      await h.services.approvals.writePolicy(
        ADMIN,
        { rules: policy.rules.map((x) => ({ ...x, acceptAttested: [] })) },
        { allowRemovals: false, dryRun: false },
      );
      try {
        await sign(ENG, r.id, "engineering");
        const signed = await sign(COMP, r.id, "compliance");
        assert.equal(signed.inForce, false);
        assert.deepEqual(
          signed.unmet.map((u) => u.requirement),
          ["evidence:benchmark"],
        );
        assert.match(signed.unmet[0]!.reason, /attached by ada is attested, not computed/);
        await code(
          promote(v),
          "precondition_failed",
          /only benchmark evidence computed by an evaluation run counts/,
        );
      } finally {
        await h.services.approvals.writePolicy(ADMIN, policy, { allowRemovals: false, dryRun: false });
      }
    });

    test("the inbox shows what my roles can still sign", async () => {
      const v = await version();
      const r = await request(v);
      const ids = (ctx: RequestContext) => h.services.approvals.inbox(ctx).then((x) => x.map((i) => i.id));
      assert.ok((await ids(COMP)).includes(r.id));
      assert.ok(!(await ids(SEC)).includes(r.id));
      assert.ok(!(await ids(AUTHOR)).includes(r.id), "the author is never asked to sign");
      await sign(COMP, r.id, "compliance");
      assert.ok(!(await ids(COMP)).includes(r.id));
      assert.ok(!(await ids(who("carl", "compliance"))).includes(r.id), "compliance quorum is met");
      assert.ok((await ids(ENG)).includes(r.id));
    });

    test("as of a past time: production, aliases, the approvals then in force and their evidence", async () => {
      const v = await version();
      const r = await request(v);
      await sign(ENG, r.id, "engineering");
      await sign(COMP, r.id, "compliance");
      h.clock.advance(1000);
      await promote(v);
      const t = new Date(h.clock.advance(1000).getTime()).toISOString();
      h.clock.advance(1000);
      await h.services.cards.save(AUTHOR, "bot", v, { ...CARD, title: "revised later" });
      const m = await h.services.registry.getModel("bot");
      const then = await h.services.approvals.inForceAt(m.id, new Date(t));
      const mine = then.find((a) => a.requestId === r.id);
      assert.ok(mine, "the approval was in force at t");
      assert.deepEqual(
        mine.signoffs.map((s) => s.role),
        ["engineering", "compliance"],
      );
      assert.equal(mine.evidence[0]?.kind, "benchmark");
      const now = await h.services.approvals.inForceAt(m.id, h.clock.now());
      assert.ok(!now.some((a) => a.requestId === r.id), "voided since");
      const res = await h.request(`/api/v1/models/bot/as-of?at=${encodeURIComponent(t)}`);
      const body = (await res.json()) as { production: string; approvals: { requestId: string }[] };
      assert.equal(body.production, v);
      assert.ok(body.approvals.some((a) => a.requestId === r.id));
    });

    test("without any policy the default rule applies: one engineering sign-off and a complete card", async () => {
      await h.services.registry.createModel(AUTHOR, {
        name: "plain",
        owner: "o",
        description: "",
        useCases: [],
        riskTier: "low",
        tags: [],
      });
      await h.services.registry.registerVersion(AUTHOR, "plain", {
        version: "1.0.0",
        provider: "simulator",
        providerModelId: "s",
        parameters: {},
        changelog: "",
        metrics: {},
        limitations: [],
        tags: [],
        card: CARD,
      });
      const r = await h.services.approvals.request(AUTHOR, "plain", "1.0.0", "go");
      assert.deepEqual(r.requirements.rules, ["default"]);
      await code(
        h.services.registry.setAlias(ADMIN, "plain", "production", "1.0.0", ""),
        "precondition_failed",
      );
      await sign(ENG, r.id, "engineering");
      assert.equal(
        (await h.services.registry.setAlias(ADMIN, "plain", "production", "1.0.0", "")).status,
        "production",
      );
    });

    test("stakeholders signing at the same moment are each recorded once and the approval decided once", async () => {
      const v = await version();
      const r = await request(v);
      const results = await Promise.allSettled([
        sign(ENG, r.id, "engineering"),
        sign(COMP, r.id, "compliance"),
        sign(ENG, r.id, "engineering"),
      ]);
      assert.equal(results.filter((x) => x.status === "fulfilled").length, 2);
      const final = await h.services.approvals.get(r.id);
      assert.equal(final.status, "approved");
      assert.equal(final.signoffs.length, 2);
      const decided = await h.db.query(
        "SELECT 1 FROM audit_events WHERE subject_id = $1 AND action = 'approval.approved'",
        [r.id],
      );
      assert.equal(decided.length, 1);
    });
  });
}
