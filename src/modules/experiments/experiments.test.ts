import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { systemContext } from "../../http/context.ts";
import { createLogger } from "../../lib/logger.ts";
import { seedModel, sendTraffic, type TrafficOptions } from "../../test-support/rollouts.ts";
import { allStoreTargets, ctx, type Harness, openHarness, readJson } from "../../test-support/stores.ts";
import { VersionCreateSchema } from "../registry/registry.schemas.ts";
import { createExperimentWatcher } from "./watcher.ts";

const JSON_HEADERS = { "content-type": "application/json" };
const AB = [
  { name: "control", version: "1.0.0", weight: 50 },
  { name: "b", version: "1.1.0", weight: 50 },
];

for (const target of allStoreTargets()) {
  describe(`experiments on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    const ids: Record<string, string> = {};
    const traffic = (model: string, version: string, count: number, opts?: TrafficOptions) =>
      sendTraffic(h, ids, model, version, count, opts);
    const split = async (name: string) => (await h.services.routes.get(name)).split;
    const post = (path: string, body: unknown, token?: string) =>
      h.request(
        `/api/v1/models/${path}`,
        { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(body) },
        token,
      );
    const create = (model: string, body: Record<string, unknown>) =>
      post(`${model}/experiments`, { name: "ab", arms: AB, ...body });
    const fieldOf = async (res: Response) => (await readJson(res)).errors[0].field;

    before(async () => {
      h = await openHarness(target);
      for (const m of ["ab", "ship", "guard"]) Object.assign(ids, await seedModel(h, m));
      await h.services.registry.registerVersion(
        ctx(),
        "ab",
        VersionCreateSchema.parse({ version: "1.3.0", provider: "simulator", providerModelId: "sim" }),
      );
    });
    after(() => h.cleanup());

    test("create refuses bad input naming the field, sets the split, and allows one running experiment", async () => {
      const unknown = await create("ab", { arms: [AB[0], { ...AB[1], version: "9.9.9" }] });
      assert.equal(unknown.status, 400);
      assert.equal(await fieldOf(unknown), "body.arms.1.version");
      const sum = await create("ab", { arms: [AB[0], { ...AB[1], weight: 40 }] });
      assert.equal(sum.status, 400);
      assert.match((await readJson(sum)).detail, /add up to 90, not 100/);
      const one = await create("ab", { arms: [{ ...AB[0], weight: 100 }] });
      assert.equal(one.status, 400);
      assert.equal(await fieldOf(one), "body.arms");
      const twice = await create("ab", { arms: [AB[0], { ...AB[1], version: "1.0.0" }] });
      assert.equal(await fieldOf(twice), "body.arms.1.version");
      const unapproved = await create("ab", { arms: [AB[0], { ...AB[1], version: "1.3.0" }] });
      assert.equal(unapproved.status, 412);
      assert.equal(await fieldOf(unapproved), "body.arms.1.version");
      const viewer = await h.tokenFor("vic", ["viewer"]);
      assert.equal((await post("ab/experiments", { name: "ab", arms: AB }, viewer)).status, 403);
      assert.equal(await split("ab"), null, "nothing was changed by the refusals");

      const started = await create("ab", { guardrails: [{ metric: "error_rate", max: 0.02 }] });
      assert.equal(started.status, 201);
      const e = await readJson(started);
      assert.match(e.id, /^exp_/);
      assert.equal(e.status, "running");
      assert.deepEqual(await split("ab"), [
        { version: "1.0.0", weight: 50 },
        { version: "1.1.0", weight: 50 },
      ]);
      const again = await create("ab", { name: "ab-2" });
      assert.equal(again.status, 409);
      assert.equal(await fieldOf(again), "model");

      const audit = await h.services.audit.events({ action: "experiment.*", order: "asc", limit: 10 });
      assert.deepEqual(
        audit.items.map((a) => a.action),
        ["experiment.created"],
      );
    });

    test("results count each arm's traffic; too little data keeps running, a clear winner ships", async () => {
      const e = await h.services.experiments.create(ctx(), "ship", {
        name: "bigger-prompt",
        arms: AB,
        primary: "success_rate",
        secondary: ["error_rate"],
        guardrails: [{ metric: "error_rate", max: 0.05 }],
        minSamplePerArm: 100,
        minDurationMs: 0,
        plannedSamplePerArm: 1000,
        alpha: 0.05,
      });
      await traffic("ship", "1.0.0", 30, { successRate: 0.7 });
      await traffic("ship", "1.1.0", 30, { successRate: 0.85 });
      const early = (await h.services.experiments.results("ship")).lastResults.results;
      assert.equal(early.recommendation.decision, "keep_running");
      assert.match(early.recommendation.reasons[0]!, /control has 30 of the 100 observations/);

      h.clock.advance(60_000);
      await traffic("ship", "1.0.0", 570, { successRate: 0.7 });
      await traffic("ship", "1.1.0", 570, { successRate: 0.85 });
      const res = await h.request("/api/v1/models/ship/experiment/results");
      assert.equal(res.status, 200);
      const v = await readJson(res);
      assert.equal(v.experiment, e.id);
      assert.equal(v.elapsedMs, 60_000);
      const [control, b] = v.results.arms;
      assert.deepEqual(
        [control.requests, control.feedbackCount, b.requests, b.feedbackCount],
        [600, 600, 600, 600],
      );
      assert.ok(Math.abs(control.successes - 420) <= 2 && Math.abs(b.successes - 510) <= 2);
      assert.equal(v.results.srm.status, "ok");
      assert.deepEqual(v.results.srm.observed, [600, 600], "units: one per request without a subject");
      assert.equal(v.results.primary[0].direction, "better");
      assert.ok(v.results.primary[0].adjustedP < 0.001);
      assert.deepEqual(v.results.recommendation.decision, "ship");
      assert.equal(v.results.recommendation.arm, "b");
      assert.match(
        v.results.recommendation.reasons[0],
        /b beats control on success rate: \+2\d\.\d% relative/,
      );
      assert.equal(v.results.secondary[0].metric, "error_rate");
      assert.equal(v.results.primary[0].sequential.looks, 1, "looks before the minimum are not carried");
      // Reads record nothing: the same numbers again.
      const again = (await h.services.experiments.results("ship")).lastResults.results.primary[0]!;
      assert.equal(again.sequential!.looks, 1, "a read is not a recorded look");
      // The watcher's looks are recorded, and each carries the last.
      await h.services.experiments.check(ctx(), e.id);
      await h.services.experiments.check(ctx(), e.id);
      const carried = (await h.services.experiments.get("ship")).lastResults!.results.primary[0]!;
      assert.equal(carried.sequential!.looks, 3, "each recorded look past the minimum carries the last");

      const stopped = await h.services.experiments.stop(ctx(), "ship", "shipping b");
      assert.equal(stopped.status, "completed", "stopped on a decision");
      assert.equal(await split("ship"), null);
    });

    test("a guardrail breach stops the experiment at the watcher's next look and clears the split", async () => {
      const e = await h.services.experiments.create(ctx(), "guard", {
        name: "cheap-model",
        arms: AB,
        primary: "success_rate",
        secondary: [],
        guardrails: [{ metric: "error_rate", max: 0.02 }],
        minSamplePerArm: 100,
        minDurationMs: 3_600_000,
        plannedSamplePerArm: 1000,
        alpha: 0.05,
      });
      const watcher = createExperimentWatcher({
        experiments: h.services.experiments,
        logger: createLogger("silent"),
      });
      await traffic("guard", "1.0.0", 150);
      await traffic("guard", "1.1.0", 150, { errors: 2 });
      const fine = await h.services.experiments.check(systemContext(), e.id);
      assert.equal(fine?.stopped, false, "2 errors in 150 do not breach 2% significantly");

      await traffic("guard", "1.1.0", 150, { errors: 30 });
      await watcher.tick();
      const after = await h.services.experiments.get("guard");
      assert.equal(after.status, "stopped");
      assert.match(
        after.stopReason!,
        /stop the experiment: b: error rate 10\.67% \(32 of 300\) vs 0\.00% baseline: above the 2\.00% guard and above the baseline \(sequential likelihood ratios/,
      );
      assert.equal(await split("guard"), null, "all traffic back to production");
      assert.equal(await h.services.experiments.check(systemContext(), e.id), null, "nothing left to check");
      const audit = await h.services.audit.events({
        action: "experiment.guardrail_stopped",
        order: "asc",
        limit: 5,
      });
      assert.equal(audit.items.length, 1);
      const numbers = audit.items[0]!.after as {
        recommendation: { decision: string };
        arms: { errors: number }[];
      };
      assert.equal(numbers.recommendation.decision, "stopped_by_guardrail");
      assert.deepEqual(
        numbers.arms.map((a) => a.errors),
        [0, 32],
      );
    });

    test("the SRM check counts distinct subjects and flags a skewed split; no arm is shipped on it", async () => {
      h.clock.advance(1000); // after the last experiment's traffic
      await h.services.experiments.create(ctx(), "guard", {
        name: "skewed",
        arms: AB,
        primary: "success_rate",
        secondary: [],
        guardrails: [],
        minSamplePerArm: 100,
        minDurationMs: 0,
        plannedSamplePerArm: 1000,
        alpha: 0.05,
      });
      await traffic("guard", "1.0.0", 400);
      await traffic("guard", "1.1.0", 200);
      // 60 more requests to b from 3 sticky users: 3 units, not 60.
      const { splitScope } = await h.services.routes.get("guard");
      for (let i = 0; i < 60; i++)
        h.services.requestLog.record({
          id: `req_subject_${i}`,
          at: h.clock.now(),
          tokenId: "tok_a",
          client: "bot",
          model: "guard",
          versionId: ids["guard@1.1.0"]!,
          version: "1.1.0",
          routeReason: "split",
          splitScope,
          endpoint: "chat.completions",
          stream: false,
          status: 200,
          errorClass: null,
          totalMs: 100,
          upstreamMs: 90,
          tokensIn: 10,
          tokensOut: 10,
          costUsd: 0.001,
          subject: `user-${i % 3}`,
          fallbackPath: [],
        });
      await h.services.requestLog.flush();
      const r = (await h.services.experiments.results("guard")).lastResults.results;
      assert.equal(r.srm.unit, "units");
      assert.deepEqual(r.srm.observed, [400, 203]);
      assert.deepEqual(
        r.arms.map((a) => a.requests),
        [400, 260],
      );
      assert.equal(r.srm.status, "mismatch");
      assert.equal(r.trustworthy, false);
      assert.equal(r.recommendation.decision, "sample_ratio_mismatch");
      assert.equal(r.recommendation.arm, null);
      await h.services.experiments.stop(ctx(), "guard");
    });

    test("stop takes a final look, clears the split and is audited; the last experiment stays readable", async () => {
      const res = await post("ab/experiment/stop", { reason: "wrong prompt in b" });
      assert.equal(res.status, 200);
      const e = await readJson(res);
      assert.equal(e.status, "stopped", "no decision yet: stopped, not completed");
      assert.equal(e.stopReason, "wrong prompt in b");
      assert.equal(e.results.results.recommendation.decision, "keep_running");
      assert.equal(await split("ab"), null);
      const got = await readJson(await h.request("/api/v1/models/ab/experiment"));
      assert.equal(got.id, e.id);
      assert.equal(got.status, "stopped");
      assert.equal((await post("ab/experiment/stop", {})).status, 404);
      const sameName = await create("ab", {});
      assert.equal(sameName.status, 409);
      assert.equal(await fieldOf(sameName), "body.name");
      const audit = await h.services.audit.events({ action: "experiment.stopped", order: "asc", limit: 5 });
      assert.ok(audit.items.some((a) => a.reason === "wrong prompt in b"));

      await h.services.rollouts.start(ctx(), "ab", "1.1.0", { plan: "demo" });
      const busy = await create("ab", { name: "during-rollout" });
      assert.equal(busy.status, 409);
      assert.match((await readJson(busy)).detail, /active rollout/);
    });
  });
}
