import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../lib/logger.ts";
import { evidence, JUSTIFICATION, retrainingKit } from "../../test-support/retraining.ts";
import { allStoreTargets, ctx, type Harness, openHarness, readJson } from "../../test-support/stores.ts";
import { type Receiver, startReceiver } from "../../test-support/webhook-receiver.ts";
import { createWebhookDispatcher, verifyWebhook } from "../webhooks/index.ts";

for (const target of allStoreTargets()) {
  describe(`retraining tasks on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let r: Receiver;
    let secret = "";
    const tokens: Record<string, string> = {};
    const { ids, post, get, register, report, footprint, problem, seed } = retrainingKit(() => h);

    before(async () => {
      h = await openHarness(target);
      for (const role of ["engineering", "viewer", "compliance"])
        tokens[role] = await h.tokenFor(`${role}-user`, [role]);
      r = await startReceiver(() => ({ status: 200 }));
      secret = (await h.services.webhooks.create(ctx(), { url: r.url, eventTypes: ["retraining.*"] })).secret;
      for (const m of ["churn", "other", "race"]) await seed(m);
    });
    after(async () => {
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
      assert.ok(verifyWebhook(secret, opened.headers, opened.body, 300, h.clock.now()));
      assert.ok(!verifyWebhook(secret, opened.headers, `${opened.body} `, 300, h.clock.now()));
      const body = JSON.parse(opened.body);
      assert.deepEqual(body.subject, { type: "retraining_task", id: first.task.id });
      assert.equal(body.after.model, "churn");
      assert.equal(body.after.task.state, "open");
      assert.equal(body.after.evidence.rule, "success-drop");
      assert.equal(body.after.evidence.evidence.windows[0].value, 0.78);
      assert.match(body.reason, /success_rate 78\.0% vs 90\.0% baseline/);

      // Tasks carry their latest evidence's summary (the console's lists show it).
      assert.equal(first.task.summary, evidence().summary);
      h.clock.advance(60_000);
      const latest = { ...evidence(2, 2), summary: "success_rate 71.0% vs 90.0% baseline over 2 h" };
      await report("churn", "1.0.0", "success-drop", latest);
      const relisted = await readJson(await get("/retraining?model=churn", tokens.viewer));
      assert.deepEqual(
        relisted.items.map((t: { summary: string | null }) => t.summary),
        [latest.summary],
      );
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
  });
}
