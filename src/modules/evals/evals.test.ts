import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { createLogger } from "../../lib/logger.ts";
import { createAdapters } from "../../providers/index.ts";
import { allStoreTargets, ctx, type Harness, openHarness, readJson } from "../../test-support/stores.ts";
import { SignSchema } from "../approvals/approvals.schemas.ts";
import { SECTION_KEYS } from "../cards/card-sections.ts";
import { VersionCreateSchema } from "../registry/registry.schemas.ts";
import { createEvalInvoker, type EvalInvoker } from "./invoker.ts";
import { createEvalWorker, type EvalWorker } from "./worker.ts";

const CARD = {
  metadata: {},
  sections: Object.fromEntries(SECTION_KEYS.map((k) => [k, `${k.replaceAll("_", " ")}: test fixture.`])),
  extraSections: [],
};
const LABELS = ["billing", "technical", "account", "shipping"];
const BANDS = ["18-29", "30-44", "45-64", "65+"];

/** n cases, spread evenly over the age bands, each expecting a label. */
export function labelSuite(name: string, n: number, extra: Record<string, unknown> = {}) {
  return {
    name,
    template: "Classify: {{ticket}}",
    scorers: [{ kind: "label", labels: LABELS }, "safety"],
    cases: Array.from({ length: n }, (_, i) => ({
      id: `c${String(i).padStart(3, "0")}`,
      input: { fields: { ticket: `ticket number ${i}` } },
      expect: { label: LABELS[i % 4] },
      attributes: { age_band: BANDS[(i + Math.floor(i / 4)) % 4], language: i % 2 ? "en" : "de" },
    })),
    ...extra,
  };
}

const sim = (quality: Record<string, unknown>, p50 = 0) => ({
  latencyMs: { p50, p95: p50 * 2 },
  tokens: { output: 20 },
  quality,
  seed: 42,
});

/** Records every call's request id, so a test can tell which cases a runner did. */
function counting(inner: EvalInvoker) {
  const calls: string[] = [];
  const invoker: EvalInvoker = {
    call(versionId, messages, c) {
      calls.push(c.requestId);
      return inner.call(versionId, messages, c);
    },
  };
  return { invoker, calls };
}

for (const target of allStoreTargets()) {
  describe(`evaluation runs on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let invoker: EvalInvoker;
    const workers: EvalWorker[] = [];
    const worker = (
      inv: EvalInvoker = invoker,
      extra: Partial<Parameters<typeof createEvalWorker>[0]> = {},
    ) => {
      const w = createEvalWorker({
        db: h.db,
        clock: h.clock,
        evals: h.services.evals,
        invoker: inv,
        logger: createLogger("silent"),
        intervalMs: 50,
        leaseTtlMs: 2_000,
        ...extra,
      });
      workers.push(w);
      return w;
    };
    const finished = async (id: string) => {
      for (let i = 0; i < 600; i++) {
        const r = await h.services.evals.get(id);
        if (r.status !== "running") return r;
        await new Promise((res) => setTimeout(res, 50));
      }
      throw new Error(`run ${id} did not finish`);
    };
    const register = (version: string, parameters: Record<string, unknown>) =>
      h.services.registry.registerVersion(
        ctx(),
        "triage",
        VersionCreateSchema.parse({
          version,
          provider: "simulator",
          providerModelId: "sim",
          parameters,
          card: CARD,
        }),
      );

    before(async () => {
      h = await openHarness(target);
      invoker = createEvalInvoker({ db: h.db, adapters: createAdapters(), apiKeyFor: () => undefined });
      await h.services.registry.createModel(ctx(), {
        name: "triage",
        owner: "team",
        description: "",
        useCases: ["support"],
        riskTier: "low",
        tags: [],
      });
      await register("1.0.0", sim({ success: 0.95 }));
      // The planted disparity: fine overall, poor for the 65+ band.
      await register("2.0.0", sim({ success: 0.97, byGroup: { "age_band:65+": 0.45 } }));
      await register("3.0.0", sim({ success: 0.95 }, 40));
      await h.services.approvals.setPolicy(ctx(), {
        rules: [
          {
            name: "default",
            match: {},
            roles: { engineering: 1 },
            evidence: ["card"],
            signoffTtlDays: 90,
            allowSameSignerForMultipleRoles: false,
          },
        ],
        gates: [
          {
            name: "support-quality",
            match: { useCases: ["support"] },
            successRate: { min: 0.8 },
            fairness: { maxGapPoints: 10, attributes: ["age_band"], minGroupSize: 20 },
          },
        ],
      });
    });
    afterEach(async () => {
      for (const w of workers.splice(0)) await w.stop();
    });
    after(() => h.cleanup());

    test("a run scores every case, reports by group, attaches passing evidence and rewrites the card", async () => {
      const w = worker();
      w.start();
      const started = await h.services.evals.start(ctx("runner"), "triage", "1.0.0", labelSuite("s1", 120));
      assert.equal(started.resumed, false);
      const run = await finished(started.id);
      assert.equal(run.status, "completed");
      assert.equal(run.done, 120);
      const cases = await h.services.evals.cases(run.id, {});
      assert.equal(cases.length, 120);
      assert.ok(cases.some((c) => c.passed && LABELS.includes(c.output ?? "")));
      const report = run.report!;
      assert.ok(report.aggregate.successRate! > 0.85, `success ${report.aggregate.successRate}`);
      assert.equal(report.groups.age_band!.groups.length, 4);
      assert.ok(report.intervals.age_band!.difference.upper !== null);
      assert.deepEqual(
        report.metricsByGroup.age_band!.map((g) => [g.key, g.n]),
        [
          ["age_band=18-29", 30],
          ["age_band=30-44", 30],
          ["age_band=45-64", 30],
          ["age_band=65+", 30],
        ],
      );
      assert.equal(
        report.metricsByGroup.age_band!.reduce((s, g) => s + g.aggregate.passed, 0),
        report.aggregate.passed,
      );
      // A classification suite: Fairlearn's rates per label, one vs the rest.
      assert.deepEqual(
        report.classification.map((c) => c.label),
        ["account", "billing", "shipping", "technical"],
      );
      const billing = report.classification[1]!.byAttribute.age_band!;
      assert.equal(billing.groups.length, 4);
      assert.ok(billing.demographicParityDifference !== null && billing.equalizedOddsDifference !== null);
      assert.equal(report.gates.benchmark.passed, true);
      assert.equal(report.gates.fairness!.passed, true, report.gates.fairness!.reasons.join("\n"));
      const evidence = await h.services.approvals.listEvidence("triage", "1.0.0");
      assert.deepEqual(
        evidence.map((e) => [e.kind, e.passed, e.contentHash === run.reportHash]),
        [
          ["benchmark-passed", true, true],
          ["fairness-passed", true, true],
        ],
      );
      const card = await h.services.cards.get("triage", "1.0.0");
      assert.match(card.content.sections.quantitative_analyses!, /Success by age_band/);
      assert.match(card.content.sections.quantitative_analyses!, new RegExp(run.id));
      // With the evidence in place, the version can be approved.
      const r = await h.services.approvals.request(ctx(), "triage", "1.0.0", "ship");
      const signed = await h.services.approvals.sign(
        ctx("eve", ["engineering"]),
        r.id,
        SignSchema.parse({ role: "engineering", decision: "approve" }),
      );
      assert.equal(signed.status, "approved");
    });

    test("the planted group disparity fails the gate: approval and promotion are blocked with the numbers", async () => {
      const w = worker();
      w.start();
      const started = await h.services.evals.start(ctx("runner"), "triage", "2.0.0", labelSuite("s1", 120));
      const run = await finished(started.id);
      assert.equal(run.report!.gates.fairness!.passed, false);
      assert.equal(run.needsReview, true);
      const gap = run.report!.groups.age_band!.maxGapPoints!;
      assert.ok(gap > 30, `gap ${gap}`);
      await assert.rejects(
        () => h.services.approvals.request(ctx(), "triage", "2.0.0", "ship"),
        (e: Error & { code?: string; errors?: { field: string; reason: string }[] }) => {
          assert.equal(e.code, "precondition_failed");
          assert.match(e.message, /age_band: success rate: gap \d+(\.\d+)? points exceeds the maximum 10/);
          assert.ok(e.errors?.some((x) => x.field === "evidence.fairness-passed"));
          return true;
        },
      );
      await assert.rejects(
        () => h.services.registry.setAlias(ctx(), "triage", "production", "2.0.0", "try"),
        /evidence:fairness-passed|release gates|approval/,
      );
      // The reviewer may not be whoever ran it; a stakeholder accepts with a justification.
      await assert.rejects(
        () =>
          h.services.evals.acceptDisparity(ctx("runner"), run.id, "we checked it and it is fine, honestly"),
        /separation of duties/,
      );
      // Over the API a short justification says how long it must be.
      const short = await h.request(`/api/v1/evals/${run.id}/accept-disparity`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ justification: "fine" }),
      });
      assert.equal(short.status, 400);
      assert.match(JSON.stringify(await short.json()), /body\.justification.*write at least 20 characters/);
      const accepted = await h.services.evals.acceptDisparity(
        ctx("carol", ["compliance"]),
        run.id,
        "65+ users are routed to a human agent for this task; the gap is mitigated downstream.",
      );
      assert.equal(accepted.needsReview, false);
      assert.equal(accepted.acceptance?.by, "carol");
      const audit = await h.db.query<{ action: string }>(
        "SELECT action FROM audit_events WHERE action IN ('eval.review_needed', 'eval.disparity_accepted') ORDER BY seq",
      );
      assert.deepEqual(
        audit.map((a) => a.action),
        ["eval.review_needed", "eval.disparity_accepted"],
      );
      const r = await h.services.approvals.request(ctx(), "triage", "2.0.0", "ship with mitigation");
      const signed = await h.services.approvals.sign(
        ctx("eve", ["engineering"]),
        r.id,
        SignSchema.parse({ role: "engineering", decision: "approve" }),
      );
      assert.equal(signed.status, "approved");
    });

    test("compare pairs two runs case by case: the flips and McNemar's test", async () => {
      const runs = await h.services.evals.list({ model: "triage", status: "completed", limit: 10 });
      const a = runs.find((r) => r.version === "1.0.0")!;
      const b = runs.find((r) => r.version === "2.0.0")!;
      const cmp = await h.services.evals.compare(a.id, b.id);
      assert.equal(cmp.pairs, 120);
      assert.equal(cmp.flips.length, cmp.onlyA + cmp.onlyB);
      assert.ok(cmp.onlyA > cmp.onlyB, `${cmp.onlyA} vs ${cmp.onlyB}`);
      assert.ok(cmp.flips.every((f) => f.from !== f.to));
      assert.equal(cmp.significant, cmp.mcNemar.exactPTwoSided < 0.05);
      assert.equal(cmp.significant, true);
    });

    test("a runner stopped midway resumes without redoing or losing cases", async () => {
      const first = counting(invoker);
      const a = worker(first.invoker);
      a.start();
      const started = await h.services.evals.start(ctx("runner"), "triage", "3.0.0", labelSuite("s2", 80), {
        concurrency: 4,
      });
      for (let i = 0; i < 400 && (await h.services.evals.get(started.id)).done < 20; i++)
        await new Promise((res) => setTimeout(res, 20));
      await a.stop(); // cases in flight are dropped, never half-recorded
      const before = await h.services.evals.cases(started.id, {});
      assert.ok(before.length >= 20 && before.length < 80, `${before.length} recorded before the stop`);
      assert.equal((await h.services.evals.get(started.id)).status, "running");
      // Starting it again finds the unfinished run: it goes on.
      const again = await h.services.evals.start(ctx("runner"), "triage", "3.0.0", labelSuite("s2", 80));
      assert.equal(again.id, started.id);
      assert.equal(again.resumed, true);
      const second = counting(invoker);
      worker(second.invoker).start();
      const run = await finished(started.id);
      assert.equal(run.status, "completed");
      const cases = await h.services.evals.cases(started.id, {});
      assert.equal(cases.length, 80);
      assert.equal(new Set(cases.map((c) => c.caseId)).size, 80);
      const redone = second.calls.filter((id) =>
        before.some((c) => id.startsWith(`${started.id}.${c.caseId}.`)),
      );
      assert.deepEqual(redone, []);
      const recordedFirst = new Set(before.map((c) => c.caseId));
      assert.equal(second.calls.length, 80 - recordedFirst.size);
    });

    test("HTTP: a bad suite is a problem naming the field; a running suite resumes with 200", async () => {
      const post = (body: unknown, token?: string) =>
        h.request(
          "/api/v1/models/triage/versions/1.0.0/evals",
          { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
          token,
        );
      const bad = labelSuite("bad", 2);
      (bad.cases[1] as { id: string }).id = "c000";
      const res = await post({ suite: bad });
      assert.equal(res.status, 400);
      assert.equal(res.headers.get("content-type"), "application/problem+json");
      const problem = await readJson(res);
      assert.equal(problem.errors[0].field, "cases[1].id");
      const schemaRes = await post({
        suite: labelSuite("bad-schema", 2, {
          scorers: [{ kind: "json_schema", schema: { type: "string", format: "postcode" } }],
        }),
      });
      assert.equal(schemaRes.status, 400);
      const schemaProblem = (await readJson(schemaRes)).errors[0];
      assert.equal(schemaProblem.field, "scorers[0].schema");
      assert.match(schemaProblem.reason, /unknown format "postcode"/);
      const policy = await h.request("/api/v1/approvals/policy", {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          rules: [],
          gates: [{ name: "g", match: {}, fairness: { attributes: ["age_band"] } }],
        }),
      });
      assert.equal(policy.status, 400);
      assert.equal((await readJson(policy)).errors[0].field, "body.gates.0.fairness");
      const viewer = await h.tokenFor("viewer", ["viewer"]);
      assert.equal((await post({ suite: labelSuite("ok", 2) }, viewer)).status, 403);
      const first = await post({ suite: labelSuite("ok", 2) });
      assert.equal(first.status, 201);
      const second = await post({ suite: labelSuite("ok", 2) });
      assert.equal(second.status, 200);
      const id = (await readJson(second)).id;
      assert.equal(id, (await readJson(first)).id);
      await h.services.evals.cancel(ctx(), id, "test over");
    });

    test("a router version is evaluated as it serves: each case goes to the tier its policy picks", async () => {
      const router = await h.services.registry.registerVersion(
        ctx(),
        "triage",
        VersionCreateSchema.parse({
          version: "9.0.0",
          provider: "router",
          providerModelId: "by-words",
          parameters: {
            tiers: [
              { name: "cheap", target: "triage@1.0.0" },
              { name: "slow", target: "triage@3.0.0" },
            ],
            classifier: {
              kind: "rules",
              rules: [{ when: { "features.tokens_in": { $gt: 10 } }, tier: "slow" }],
              default: "cheap",
            },
          },
          card: CARD,
        }),
      );
      const v1 = await h.services.registry.getVersion("triage", "1.0.0");
      const v3 = await h.services.registry.getVersion("triage", "3.0.0");
      const signal = new AbortController().signal;
      const short = await invoker.call(router.id, [{ role: "user", content: "hi" }], {
        requestId: "r1",
        signal,
      });
      assert.deepEqual(short.route, { tier: "cheap", why: "rules:default", versionId: v1.id });
      const long = await invoker.call(
        router.id,
        [{ role: "user", content: "a ticket that runs on well past forty characters of text" }],
        { requestId: "r2", signal },
      );
      assert.deepEqual(long.route, { tier: "slow", why: "rules:0", versionId: v3.id });
      assert.match(long.text, /^SIM-/);
      // A cascade: the refusing tier first, then 1.0.0; an ensemble's majority. The tiers' tokens add up.
      await register("4.0.0", { ...sim({ success: 0 }), poorAnswer: "refusal" });
      const routerVersion = (version: string, parameters: Record<string, unknown>) =>
        h.services.registry.registerVersion(
          ctx(),
          "triage",
          VersionCreateSchema.parse({
            version,
            provider: "router",
            providerModelId: "multi",
            parameters,
            card: CARD,
          }),
        );
      const cascade = await routerVersion("9.1.0", {
        strategy: "cascade",
        tiers: [
          { name: "cheap", target: "triage@4.0.0" },
          { name: "strong", target: "triage@1.0.0" },
        ],
      });
      const c = await invoker.call(cascade.id, [{ role: "user", content: "hi" }], {
        requestId: "r3",
        signal,
      });
      assert.deepEqual(c.route, {
        tier: "strong",
        why: "cascade",
        versionId: v1.id,
        tiers: [
          { tier: "cheap", outcome: "escalated" },
          { tier: "strong", outcome: "served" },
        ],
      });
      assert.equal(c.tokensOut, 40, "both tiers' 20 output tokens");
      const ensemble = await routerVersion("9.2.0", {
        strategy: "ensemble",
        tiers: [
          { name: "a", target: "triage@4.0.0" },
          { name: "b", target: "triage@1.0.0" },
          { name: "c", target: "triage@1.0.0" },
        ],
        combine: { by: "majority" },
      });
      const e = await invoker.call(ensemble.id, [{ role: "user", content: "hi" }], {
        requestId: "r4",
        signal,
      });
      assert.deepEqual(
        e.route?.tiers?.map((t) => t.outcome),
        ["outvoted", "served", "outvoted"],
        "b and c give the same answer; a refuses",
      );
      assert.equal(e.tokensOut, 60);
      // The gateway's LLM classifier and judge, asked as the gateway asks them: a simulator's
      // reply names no tier (the default serves) and picks no answer (the first valid serves);
      // either way their tokens are counted with the tiers'.
      const llm = await routerVersion("9.3.0", {
        tiers: [
          { name: "cheap", target: "triage@1.0.0" },
          { name: "slow", target: "triage@3.0.0" },
        ],
        classifier: {
          kind: "llm",
          target: "triage@1.0.0",
          rubric: "Long tickets go slow.",
          default: "cheap",
        },
      });
      const l = await invoker.call(llm.id, [{ role: "user", content: "hi" }], { requestId: "r5", signal });
      assert.deepEqual(l.route, {
        tier: "cheap",
        why: "llm:default (no tier in the answer)",
        versionId: v1.id,
      });
      assert.equal(l.tokensOut, 40, "the classifier's 20 output tokens and the tier's");
      const judged = await routerVersion("9.4.0", {
        strategy: "ensemble",
        tiers: [
          { name: "a", target: "triage@4.0.0" },
          { name: "b", target: "triage@1.0.0" },
          { name: "c", target: "triage@1.0.0" },
        ],
        combine: { by: "judge", judge: "triage@1.0.0" },
      });
      const j = await invoker.call(judged.id, [{ role: "user", content: "hi" }], { requestId: "r6", signal });
      assert.deepEqual(
        j.route?.tiers?.map((t) => t.outcome),
        ["outvoted", "served", "outvoted"],
        "the judge's reply picks nothing: the first valid answer (a refuses)",
      );
      assert.equal(j.tokensOut, 80, "three tiers and the judge");
      // A whole run on the router version completes, every case answered by a tier.
      const w = worker();
      w.start();
      const started = await h.services.evals.start(
        ctx("runner"),
        "triage",
        "9.0.0",
        labelSuite("routed", 20),
      );
      const run = await finished(started.id);
      assert.equal(run.status, "completed");
      assert.equal(run.done, 20);
    });
  });
}
