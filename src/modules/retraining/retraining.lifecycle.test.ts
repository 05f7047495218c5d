import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { evidence, retrainingKit } from "../../test-support/retraining.ts";
import { allStoreTargets, ctx, type Harness, openHarness, readJson } from "../../test-support/stores.ts";
import type { EvalWorker } from "../evals/index.ts";

for (const target of allStoreTargets()) {
  describe(`a retraining task through to production on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let worker: EvalWorker;
    const tokens: Record<string, string> = {};
    const { ids, post, get, register, approve, seed, report, startWorker, runSuite, problem } = retrainingKit(
      () => h,
    );

    before(async () => {
      h = await openHarness(target);
      tokens.engineering = await h.tokenFor("engineering-user", ["engineering"]);
      worker = await startWorker();
      for (const m of ["churn", "early"]) await seed(m);
    });
    after(async () => {
      await worker.stop();
      await h.cleanup();
    });

    test("open → training → candidate → a candidate no better is not evaluated → a better one is → approved and rolled out by the hooks → closed", async () => {
      const task = (await report("churn")).task;
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
