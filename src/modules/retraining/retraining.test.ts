import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../lib/logger.ts";
import { createAdapters } from "../../providers/index.ts";
import { allStoreTargets, ctx, type Harness, openHarness, readJson } from "../../test-support/stores.ts";
import { type Receiver, startReceiver } from "../../test-support/webhook-receiver.ts";
import { SignSchema } from "../approvals/approvals.schemas.ts";
import { SECTION_KEYS } from "../cards/card-sections.ts";
import { createEvalInvoker, createEvalWorker, type EvalWorker } from "../evals/index.ts";
import { ModelCreateSchema, VersionCreateSchema } from "../registry/index.ts";
import { createWebhookDispatcher, verifyWebhookSignature } from "../webhooks/index.ts";

const JSON_HEADERS = { "content-type": "application/json" };
const CARD = {
  metadata: {},
  sections: Object.fromEntries(SECTION_KEYS.map((k) => [k, `${k.replaceAll("_", " ")}: test fixture.`])),
  extraSections: [],
};
const LABELS = ["billing", "technical", "account", "shipping"];
/** 120 label cases: enough for McNemar to tell 95% from 60%, and to find nothing between 60% and 60%. */
const suite = (name: string) => ({
  name,
  template: "Classify: {{ticket}}",
  scorers: [{ kind: "label", labels: LABELS }],
  cases: Array.from({ length: 120 }, (_, i) => ({
    id: `c${String(i).padStart(3, "0")}`,
    input: { fields: { ticket: `ticket number ${i}` } },
    expect: { label: LABELS[i % 4] },
  })),
});
const sim = (success: number, seed = 42) => ({
  latencyMs: { p50: 0, p95: 0 },
  tokens: { output: 20 },
  quality: { success },
  seed,
});
const JUSTIFICATION = "seasonal dip: the December baseline is known to run 8 points lower";

/** A monitor's evidence: one breached window of `hours` hours starting `startH` hours after 09:00. */
function evidence(startH = 0, hours = 1, metric = "success_rate") {
  const from = new Date(Date.UTC(2026, 2, 1, 9 + startH)).toISOString();
  const to = new Date(Date.UTC(2026, 2, 1, 9 + startH + hours)).toISOString();
  return {
    metric,
    windows: [{ from, to, value: 0.78, baseline: 0.9, n: 500, p: 0.0004, breached: true, z: -3.5 }],
    summary: `${metric} 78.0% vs 90.0% baseline over ${hours} h (p = 0.0004)`,
    test: { name: "two-proportion z", alpha: 0.01 },
  };
}

for (const target of allStoreTargets()) {
  describe(`retraining tasks on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let r: Receiver;
    let worker: EvalWorker;
    let secret = "";
    const ids: Record<string, string> = {};
    const tokens: Record<string, string> = {};
    const post = (path: string, body: unknown, token?: string) =>
      h.request(
        `/api/v1${path}`,
        { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(body) },
        token,
      );
    const get = (path: string, token?: string) => h.request(`/api/v1${path}`, {}, token);
    const register = (model: string, version: string, success: number, extra: Record<string, unknown> = {}) =>
      post(`/models/${model}/versions`, {
        version,
        provider: "simulator",
        providerModelId: "sim",
        parameters: sim(success),
        card: CARD,
        ...extra,
      });
    const approve = async (model: string, version: string) => {
      const req = await h.services.approvals.request(ctx(), model, version, "ship it");
      return h.services.approvals.sign(
        ctx("eve", ["engineering"]),
        req.id,
        SignSchema.parse({ role: "engineering", decision: "approve" }),
      );
    };
    /** A model whose 1.0.0 (60% on the suite) is in production. */
    const seed = async (model: string) => {
      await h.services.registry.createModel(
        ctx(),
        ModelCreateSchema.parse({ name: model, owner: "team", riskTier: "low" }),
      );
      const v = await h.services.registry.registerVersion(
        ctx(),
        model,
        VersionCreateSchema.parse({
          version: "1.0.0",
          provider: "simulator",
          providerModelId: "sim",
          parameters: sim(0.6),
          card: CARD,
        }),
      );
      ids[`${model}@1.0.0`] = v.id;
      await approve(model, "1.0.0");
      await h.services.registry.setAlias(ctx(), model, "production", "1.0.0", "first release");
    };
    const report = (model: string, version = "1.0.0", rule = "success-drop", ev = evidence()) =>
      h.services.retraining.openOrExtend(
        { model, versionId: ids[`${model}@${version}`]!, rule, evidence: ev },
        ctx("monitoring", ["admin"]),
      );
    const runSuite = async (model: string, version: string, name = "churn-slice") => {
      const run = await h.services.evals.start(ctx(), model, version, suite(name));
      for (let i = 0; i < 600; i++) {
        const x = await h.services.evals.get(run.id);
        if (x.status === "completed") return x.id;
        if (x.status !== "running") throw new Error(`run ${run.id} ${x.status}: ${x.error}`);
        await new Promise((res) => setTimeout(res, 25));
      }
      throw new Error(`run ${run.id} did not finish`);
    };
    /** What a refusal must leave untouched. */
    const footprint = async () =>
      JSON.stringify(
        await h.db.query(
          `SELECT (SELECT count(*)::int FROM audit_events) AS audit,
                  (SELECT count(*)::int FROM model_versions) AS versions,
                  (SELECT count(*)::int FROM retraining_transitions) AS moves,
                  (SELECT count(*)::int FROM retraining_evidence) AS evidence,
                  (SELECT string_agg(id || ':' || state || ':' || updated_at::text, ',' ORDER BY id)
                     FROM retraining_tasks) AS tasks`,
        ),
      );
    const problem = async (res: Response, status: number, field?: string) => {
      assert.equal(res.status, status, await res.clone().text());
      assert.equal(res.headers.get("content-type"), "application/problem+json");
      const p = await readJson(res);
      if (field) assert.equal(p.errors[0]?.field, field, JSON.stringify(p));
      return p;
    };

    before(async () => {
      h = await openHarness(target);
      for (const role of ["engineering", "viewer", "compliance"])
        tokens[role] = await h.tokenFor(`${role}-user`, [role]);
      r = await startReceiver(() => ({ status: 200 }));
      secret = (await h.services.webhooks.create(ctx(), { url: r.url, eventTypes: ["retraining.*"] })).secret;
      worker = createEvalWorker({
        db: h.db,
        clock: h.clock,
        evals: h.services.evals,
        invoker: createEvalInvoker({ db: h.db, adapters: createAdapters(), apiKeyFor: () => undefined }),
        logger: createLogger("silent"),
        intervalMs: 20,
        leaseTtlMs: 5_000,
      });
      await worker.start();
      for (const m of ["churn", "other", "race", "early"]) await seed(m);
    });
    after(async () => {
      await worker.stop();
      await r.close();
      await h.cleanup();
    });

    test("a breach opens one task, a continuing breach adds evidence; retraining.opened reaches a retraining.* subscriber, signed", async () => {
      const first = await report("churn");
      assert.equal(first.opened, true);
      assert.match(first.task.id, /^rtk_[a-z0-9]+$/);
      assert.equal(first.task.state, "open");
      assert.deepEqual(first.task.next, ["training", "dismissed"]);
      assert.equal(first.task.version, "1.0.0");
      assert.equal(first.task.metric, "success_rate");
      const again = await report("churn", "1.0.0", "success-drop", evidence(1));
      assert.equal(again.opened, false);
      assert.equal(again.task.id, first.task.id);
      assert.equal(again.task.evidenceCount, 2);
      assert.equal(again.evidence.windowFrom, "2026-03-01T10:00:00.000Z");
      // Extra fields of the evidence are kept as sent.
      assert.equal((again.evidence.evidence.test as { name: string }).name, "two-proportion z");

      const listed = await readJson(await get("/retraining?model=churn&state=active", tokens.viewer));
      assert.deepEqual(
        listed.items.map((t: { id: string }) => t.id),
        [first.task.id],
      );
      const shown = await readJson(await get(`/retraining/${first.task.id}`, tokens.viewer));
      assert.equal(shown.evidence.length, 2);
      assert.deepEqual(
        shown.history.map((x: { from: string | null; to: string }) => [x.from, x.to]),
        [[null, "open"]],
      );

      const d = createWebhookDispatcher({ db: h.db, clock: h.clock, logger: createLogger("silent") });
      await d.runOnce();
      assert.deepEqual(
        r.accepted.map((x) => x.event),
        ["retraining.opened", "retraining.evidence_added"],
      );
      const opened = r.accepted[0]!;
      assert.ok(
        verifyWebhookSignature(secret, opened.timestamp, opened.body, opened.signature, 300, h.clock.now()),
      );
      assert.ok(
        !verifyWebhookSignature(
          secret,
          opened.timestamp,
          `${opened.body} `,
          opened.signature,
          300,
          h.clock.now(),
        ),
      );
      const body = JSON.parse(opened.body);
      assert.deepEqual(body.subject, { type: "retraining_task", id: first.task.id });
      assert.equal(body.after.model, "churn");
      assert.equal(body.after.task.state, "open");
      assert.equal(body.after.evidence.rule, "success-drop");
      assert.equal(body.after.evidence.evidence.windows[0].value, 0.78);
      assert.match(body.reason, /success_rate 78\.0% vs 90\.0% baseline/);
    });

    test("two replicas firing at once open one task; the index refuses a second open task however it is written", async () => {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => report("race", "1.0.0", "success-drop", evidence(i))),
      );
      assert.equal(results.filter((x) => x.opened).length, 1);
      assert.equal(new Set(results.map((x) => x.task.id)).size, 1);
      const rows = await h.db.query<{ n: number; e: number }>(
        `SELECT count(*)::int AS n, (SELECT count(*)::int FROM retraining_evidence e JOIN retraining_tasks t ON t.id = e.task_id
            JOIN models m ON m.id = t.model_id WHERE m.name = 'race') AS e
           FROM retraining_tasks t JOIN models m ON m.id = t.model_id WHERE m.name = 'race'`,
      );
      assert.deepEqual(rows[0], { n: 1, e: 6 });
      const task = results[0]!.task;
      await assert.rejects(
        h.db.query(
          `INSERT INTO retraining_tasks (id, model_id, version_id, state, rule, metric, opened_by, opened_at, updated_at)
           SELECT 'rtk_second', model_id, version_id, 'training', 'x', 'y', 'z', now(), now() FROM retraining_tasks WHERE id = $1`,
          [task.id],
        ),
        /retraining_tasks_one_open_idx|already exists/,
      );
    });

    test("bad evidence is refused naming the field, and writes nothing", async () => {
      const before = await footprint();
      const bad = evidence();
      bad.windows[0]!.to = bad.windows[0]!.from;
      await assert.rejects(
        report("churn", "1.0.0", "success-drop", bad),
        (e: Error & { errors?: unknown }) => {
          assert.deepEqual((e as { errors: unknown }).errors, [
            { field: "evidence.windows.0.to", reason: "must be after from" },
          ]);
          return true;
        },
      );
      await assert.rejects(
        report("churn", "1.0.0", "success-drop", { ...evidence(), rule: "latency" } as never),
        /evidence\.rule: names rule 'latency'/,
      );
      await assert.rejects(
        h.services.retraining.openOrExtend(
          { model: "churn", versionId: ids["other@1.0.0"]!, rule: "r", evidence: evidence() },
          ctx(),
        ),
        /versionId: '.*' is not a version of model 'churn'/,
      );
      await assert.rejects(
        report("churn", "1.0.0", "success-drop", { ...evidence(), summary: "nul \u0000 here" }),
        /evidence\.summary: must not contain a NUL character/,
      );
      await assert.rejects(report("churn", "1.0.0", "drop\u0000"), /rule: must not contain a NUL character/);
      const api = await post("/retraining", {
        model: "churn",
        version: "1.0.0",
        rule: "r",
        evidence: { metric: "x" },
      });
      await problem(api, 400, "body.evidence.windows");
      await problem(
        await post("/retraining", { model: "churn", version: "9.9.9", rule: "r", evidence: evidence() }),
        400,
        "body.version",
      );
      assert.equal(await footprint(), before);
    });

    test("the controls: out-of-order moves, foreign or missing tasks, dismissal without a justification or a permission are refused and leave nothing behind", async () => {
      const task = (await report("churn")).task;
      const other = (await report("other")).task;
      const before = await footprint();
      // Out of order: the task is open.
      const evaluate = await post(`/retraining/${task.id}/evaluate`, {
        candidateRun: "evr_a",
        productionRun: "evr_b",
      });
      const p = await problem(evaluate, 409, "state");
      assert.match(p.detail, /is open: it cannot move to evaluated; next: training, dismissed/);
      await problem(await post(`/retraining/${task.id}/mark-approved`, {}), 409, "state");
      await problem(await post(`/retraining/${task.id}/mark-rolled-out`, {}), 409, "state");
      await problem(await post(`/retraining/${task.id}/close`, {}), 409, "state");
      // A candidate for a task still open: start training first.
      const early = await register("churn", "1.1.0", 0.95, {
        retrainedFrom: { version: "1.0.0", task: task.id },
      });
      assert.match((await problem(early, 409, "body.retrainedFrom.task")).detail, /start training first/);
      // Naming another model's task, a task that does not exist, a version that does not.
      const foreign = await register("churn", "1.1.0", 0.95, {
        retrainedFrom: { version: "1.0.0", task: other.id },
      });
      assert.match(
        (await problem(foreign, 400, "body.retrainedFrom.task")).detail,
        /is about model 'other', not 'churn'/,
      );
      const missing = await register("churn", "1.1.0", 0.95, {
        retrainedFrom: { version: "1.0.0", task: "rtk_nope" },
      });
      assert.match((await problem(missing, 400, "body.retrainedFrom.task")).detail, /does not exist/);
      await problem(
        await register("churn", "1.1.0", 0.95, { retrainedFrom: { version: "0.9.0", task: task.id } }),
        400,
        "body.retrainedFrom.version",
      );
      await problem(
        await register("churn", "1.1.0", 0.95, { retrainedFrom: { version: "1.0.0", task: "task-1" } }),
        400,
        "body.retrainedFrom.task",
      );
      assert.equal((await get("/models/churn/versions/1.1.0")).status, 404);
      // Dismissal: a justification is required, of a reasonable length, by a role allowed to.
      await problem(
        await post(`/retraining/${task.id}/dismiss`, {}, tokens.compliance),
        400,
        "body.justification",
      );
      await problem(
        await post(`/retraining/${task.id}/dismiss`, { justification: "   no   " }, tokens.compliance),
        400,
        "body.justification",
      );
      for (const role of ["engineering", "viewer"]) {
        const refused = await post(
          `/retraining/${task.id}/dismiss`,
          { justification: JUSTIFICATION },
          tokens[role],
        );
        assert.match((await problem(refused, 403, "authorization")).detail, /'retraining:dismiss'/);
      }
      await assert.rejects(
        h.services.retraining.dismiss(ctx("erin", ["engineering"]), task.id, JUSTIFICATION),
        /needs the 'retraining:dismiss' permission/,
      );
      await assert.rejects(
        h.services.retraining.dismiss(ctx("carol", ["compliance"]), task.id, "too short"),
        /at least 20 characters/,
      );
      await problem(
        await post(`/retraining/${task.id}/start-training`, {}, tokens.viewer),
        403,
        "authorization",
      );
      await problem(
        await get(`/retraining/${task.id}/dataset?format=suite`, tokens.viewer),
        403,
        "authorization",
      );
      // Other misuse: an unknown task, a malformed id, an unknown state filter.
      await problem(await post("/retraining/rtk_nope/start-training", {}), 404);
      await problem(await get("/retraining/not-a-task"), 400, "param.task");
      await problem(await get("/retraining?state=halfway"), 400, "query.state");
      await problem(await get("/retraining?cursor=bogus"), 400, "query.cursor");
      assert.equal(await footprint(), before);
    });

    test("dismissal by a stakeholder with a justification: audited, final", async () => {
      const other = (await h.services.retraining.list({ model: "other", state: "active", limit: 5 }))
        .items[0]!;
      const before = await footprint();
      const res = await post(
        `/retraining/${other.id}/dismiss`,
        { justification: `  ${JUSTIFICATION}  ` },
        tokens.compliance,
      );
      assert.equal(res.status, 200);
      const t = await readJson(res);
      assert.equal(t.state, "dismissed");
      assert.equal(t.resolution, JUSTIFICATION);
      assert.deepEqual(t.next, []);
      assert.ok(t.endedAt);
      const events = await h.services.audit.events({ subjectId: other.id, order: "asc", limit: 50 } as never);
      const dismissed = events.items.find((e) => e.action === "retraining.dismissed")!;
      assert.equal(dismissed.actor, "compliance-user");
      assert.equal(dismissed.reason, JUSTIFICATION);
      assert.deepEqual(dismissed.before, { state: "open" });
      assert.notEqual(await footprint(), before);
      const after = await footprint();
      await problem(
        await post(`/retraining/${other.id}/dismiss`, { justification: JUSTIFICATION }, tokens.compliance),
        409,
        "state",
      );
      await problem(await post(`/retraining/${other.id}/start-training`, {}), 409, "state");
      assert.equal(await footprint(), after);
      // The model has no open task now: the next breach opens a new one.
      const next = await report("other");
      assert.equal(next.opened, true);
      assert.notEqual(next.task.id, other.id);
    });

    test("open → training → candidate → a candidate no better is not evaluated → a better one is → approved and rolled out by the hooks → closed", async () => {
      const task = (await h.services.retraining.list({ model: "churn", state: "active", limit: 5 }))
        .items[0]!;
      const training = await post(
        `/retraining/${task.id}/start-training`,
        { note: "fine-tune on the December slice" },
        tokens.engineering,
      );
      assert.equal(training.status, 200, await training.clone().text());
      assert.equal((await readJson(training)).state, "training");

      // A retrained candidate no better than production (both 60% on the suite).
      const same = await register("churn", "1.1.0", 0.6, {
        retrainedFrom: { version: "1.0.0", task: task.id },
      });
      assert.equal(same.status, 201, await same.clone().text());
      const v110 = await readJson(same);
      assert.deepEqual(v110.retrainedFrom, { version: "1.0.0", task: task.id });
      assert.deepEqual((await readJson(await get("/models/churn/versions/1.1.0"))).retrainedFrom, {
        version: "1.0.0",
        task: task.id,
      });
      let shown = await readJson(await get(`/retraining/${task.id}`));
      assert.equal(shown.state, "candidate_registered");
      assert.deepEqual(shown.candidate, { id: v110.id, version: "1.1.0" });
      await assert.rejects(
        h.db.query(
          "UPDATE model_versions SET retraining_task_id = NULL, retrained_from_version_id = NULL WHERE id = $1",
          [v110.id],
        ),
        /fixed at registration/,
      );

      const prodRun = await runSuite("churn", "1.0.0");
      const sameRun = await runSuite("churn", "1.1.0");
      // Runs that do not fit: swapped, not completed, another suite.
      await problem(
        await post(`/retraining/${task.id}/evaluate`, { candidateRun: prodRun, productionRun: sameRun }),
        400,
        "body.candidateRun",
      );
      await problem(
        await post(`/retraining/${task.id}/evaluate`, { candidateRun: "evr_nope", productionRun: prodRun }),
        400,
        "body.candidateRun",
      );
      await problem(
        await post(`/retraining/${task.id}/evaluate`, {
          candidateRun: sameRun,
          productionRun: prodRun,
          alpha: 0.5,
        }),
        400,
        "body.alpha",
      );
      const flat = await post(`/retraining/${task.id}/evaluate`, {
        candidateRun: sameRun,
        productionRun: prodRun,
      });
      assert.equal(flat.status, 200, await flat.clone().text());
      const notBetter = await readJson(flat);
      assert.equal(notBetter.verdict.passed, false);
      assert.equal(notBetter.verdict.test, "mcnemar_exact");
      assert.equal(notBetter.verdict.basis, "pass_rate");
      assert.equal(notBetter.verdict.pairs, 120);
      assert.equal(notBetter.task.state, "candidate_registered");
      assert.match(notBetter.verdict.reasons.join(" "), /on 120 paired cases/);
      assert.match(
        notBetter.verdict.reasons.join(" "),
        /must beat production significantly|does not pass more cases/,
      );
      const suiteHash = notBetter.verdict.suite.hash;
      assert.equal(notBetter.task.suiteHash, suiteHash, "the first evaluation pins the suite");

      // A better candidate replaces it; a run on another suite is refused (the suite is pinned).
      const better = await register("churn", "1.2.0", 0.97, {
        retrainedFrom: { version: "1.0.0", task: task.id },
      });
      assert.equal(better.status, 201, await better.clone().text());
      shown = await readJson(await get(`/retraining/${task.id}`));
      assert.equal(shown.candidate.version, "1.2.0");
      assert.equal(shown.evaluation, null, "a new candidate voids the previous verdict");
      const elsewhere = await runSuite("churn", "1.2.0", "easier-suite");
      const prodElsewhere = await runSuite("churn", "1.0.0", "easier-suite");
      assert.match(
        (
          await problem(
            await post(`/retraining/${task.id}/evaluate`, {
              candidateRun: elsewhere,
              productionRun: prodElsewhere,
            }),
            400,
            "body.candidateRun",
          )
        ).detail,
        /the task's suite is sha256:/,
      );
      const betterRun = await runSuite("churn", "1.2.0");
      await problem(
        await post(`/retraining/${task.id}/evaluate`, {
          candidateRun: betterRun,
          productionRun: prodElsewhere,
        }),
        400,
        "body.productionRun",
      );
      const passed = await readJson(
        await post(`/retraining/${task.id}/evaluate`, { candidateRun: betterRun, productionRun: prodRun }),
      );
      assert.equal(passed.verdict.passed, true, passed.verdict.reasons.join("; "));
      assert.equal(passed.task.state, "evaluated");
      assert.ok(passed.verdict.p < 0.05);
      assert.ok(passed.verdict.candidate.value > passed.verdict.production.value);
      assert.match(passed.verdict.reasons.join(" "), /the candidate is significantly better/);

      // Approval of the candidate moves the task (the hook, in the signing transaction).
      await approve("churn", "1.2.0");
      shown = await readJson(await get(`/retraining/${task.id}`));
      assert.equal(shown.state, "approved");
      const approved = shown.history.find((x: { to: string }) => x.to === "approved");
      assert.equal(approved.actor, "eve");
      await problem(await post(`/retraining/${task.id}/mark-rolled-out`, {}), 412, "candidate");

      // A canary rollout promoted to the end moves it to rolled_out (the registry's hook).
      const started = await post("/models/churn/rollouts", { version: "1.2.0" });
      assert.equal(started.status, 201, await started.clone().text());
      assert.equal((await readJson(await get(`/retraining/${task.id}`))).state, "approved");
      const promoted = await post("/models/churn/rollout/promote", { full: true });
      assert.equal(promoted.status, 200, await promoted.clone().text());
      shown = await readJson(await get(`/retraining/${task.id}`));
      assert.equal(shown.state, "rolled_out");

      const closed = await post(
        `/retraining/${task.id}/close`,
        { note: "holding at 95% for a week" },
        tokens.engineering,
      );
      assert.equal(closed.status, 200);
      assert.equal((await readJson(closed)).state, "closed");
      shown = await readJson(await get(`/retraining/${task.id}`));
      assert.deepEqual(
        shown.history.map((x: { to: string }) => x.to),
        [
          "open",
          "training",
          "candidate_registered",
          "candidate_registered",
          "evaluated",
          "approved",
          "rolled_out",
          "closed",
        ],
      );
      const actions = (
        await h.services.audit.events({ subjectId: task.id, order: "asc", limit: 100 } as never)
      ).items.map((e) => e.action);
      assert.deepEqual(actions, [
        "retraining.opened",
        "retraining.evidence_added",
        "retraining.evidence_added",
        "retraining.training",
        "retraining.candidate_registered",
        "retraining.evaluation_failed",
        "retraining.candidate_registered",
        "retraining.evaluated",
        "retraining.approved",
        "retraining.rolled_out",
        "retraining.closed",
      ]);
    });

    test("an approval before the evaluation: mark-approved checks it is in force; a breach of the rolled-out version supersedes the task", async () => {
      const task = (await report("early")).task;
      await h.services.retraining.startTraining(ctx(), task.id, { note: "" });
      await register("early", "1.1.0", 0.97, { retrainedFrom: { version: "1.0.0", task: task.id } });
      await problem(await post(`/retraining/${task.id}/mark-approved`, {}), 409, "state");
      await approve("early", "1.1.0");
      assert.equal(
        (await h.services.retraining.get(task.id)).state,
        "candidate_registered",
        "not evaluated yet: the approval waits",
      );
      const v = await h.services.retraining.evaluate(ctx(), task.id, {
        candidateRun: await runSuite("early", "1.1.0"),
        productionRun: await runSuite("early", "1.0.0"),
        alpha: 0.05,
      });
      assert.equal(v.task.state, "evaluated");
      const marked = await post(`/retraining/${task.id}/mark-approved`, {});
      assert.equal(marked.status, 200, await marked.clone().text());
      assert.equal((await readJson(marked)).state, "approved");
      await h.services.registry.setAlias(ctx(), "early", "production", "1.1.0", "retrained");
      assert.equal((await h.services.retraining.get(task.id)).state, "rolled_out");

      ids["early@1.1.0"] = (await h.services.registry.getVersion("early", "1.1.0")).id;
      const next = await report("early", "1.1.0", "success-drop", evidence(5));
      assert.equal(next.opened, true);
      const old = await h.services.retraining.get(task.id);
      assert.equal(old.state, "closed");
      assert.match(old.resolution ?? "", /superseded by a new breach of 1\.1\.0/);
      assert.equal(next.task.version, "1.1.0");
    });
  });
}
