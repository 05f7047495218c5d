import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Plan } from "../../engines/rollout/index.ts";
import { systemContext } from "../../http/context.ts";
import { createLogger } from "../../lib/logger.ts";
import { seedModel } from "../../test-support/rollouts.ts";
import { allStoreTargets, ctx, type Harness, openHarness, readJson } from "../../test-support/stores.ts";
import { createExperimentWatcher } from "../experiments/index.ts";
import { createRolloutController, type RolloutController } from "./controller.ts";

const logger = createLogger("silent");
const PLAN: Plan = {
  name: "test",
  steps: [
    { weight: 10, durationMs: 60_000 },
    { weight: 100, durationMs: 60_000 },
  ],
  analysisIntervalMs: 10_000,
  minSamplePerArm: 40,
  failureLimit: 2,
  alpha: 0.05,
  metrics: [{ kind: "error_rate", max: 0.05 }],
  fastPath: { windowMs: 10_000, minRequests: 20, maxErrorRate: 0.3 },
};

for (const target of allStoreTargets()) {
  describe(`kill switches and rollouts on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let controller: RolloutController;
    const bob = ctx("bob");

    const engage = (scope: "version" | "provider", t: string, reason: string) =>
      h.services.killSwitches.engage(bob, { scope, target: t, reason });
    const release = (id: string) => h.services.killSwitches.release(bob, id, "fixed");
    const start = (model: string) => h.services.rollouts.start(ctx(), model, "1.1.0", { plan: PLAN });
    const status = async (model: string) => (await h.services.rollouts.status(model))!;

    before(async () => {
      h = await openHarness(target);
      for (const m of ["cand", "prov", "base", "calm", "paused", "exp"]) await seedModel(h, m);
      // Analyses are not due (the clock stands still): a tick only looks for switches and the fast path.
      controller = createRolloutController({
        db: h.db,
        rollouts: h.services.rollouts,
        logger,
        tickMs: 3_600_000,
      });
    });
    after(async () => {
      await controller.stop();
      await h.cleanup();
    });

    test("a switched-off candidate is rolled back at the next tick, the decision and its audit event naming the switch", async () => {
      await start("cand");
      await start("calm");
      const sw = await engage("version", "cand@1.1.0", "leaks the system prompt (INC-1)");
      await controller.kick();

      const r = await status("cand");
      assert.equal(r.status, "rolled_back");
      assert.equal(r.weight, 0);
      assert.equal((await h.services.routes.get("cand")).split, null, "all traffic back to production");
      const d = r.decisions[0]!;
      assert.equal(d.decision, "rollback");
      assert.equal(d.actor, "rollout-controller");
      assert.equal(
        d.reasons[0],
        `cand@1.1.0 is switched off by kill switch ${sw.id} (version cand@1.1.0, engaged by bob: leaks the system prompt (INC-1)): the rollout is rolled back`,
      );
      assert.deepEqual((d.analysis as { killSwitch: { id: string; engagedBy: string } }).killSwitch, {
        id: sw.id,
        scope: "version",
        target: "cand@1.1.0",
        reason: "leaks the system prompt (INC-1)",
        engagedBy: "bob",
        engagedAt: sw.engagedAt,
      });
      const audit = await h.services.audit.events({ action: "rollout.rollback", order: "asc", limit: 5 });
      assert.equal(audit.items.length, 1);
      assert.equal(audit.items[0]!.reason, d.reasons[0]);
      assert.equal(audit.items[0]!.actor, "rollout-controller");

      const calm = await status("calm");
      assert.equal(calm.status, "running", "a rollout no switch covers is left alone");
      assert.equal(calm.decisions.length, 1);
      await release(sw.id);
      await h.services.rollouts.abort(ctx(), "calm");
    });

    test("a provider switch covers the candidate (its own switch named first when both are engaged)", async () => {
      await start("prov");
      const own = await engage("version", "prov@1.1.0", "bad answers");
      const provider = await engage("provider", "simulator", "simulator down");
      await controller.kick();
      const r = await status("prov");
      assert.equal(r.status, "rolled_back");
      assert.match(
        r.decisions[0]!.reasons[0]!,
        new RegExp(`kill switch ${own.id} \\(version prov@1\\.1\\.0`),
      );
      await release(own.id);
      await release(provider.id);

      await h.services.rollouts.start(ctx(), "prov", "1.2.0", { plan: PLAN });
      const again = await engage("provider", "simulator", "simulator answers garbage");
      await controller.kick();
      const p = await status("prov");
      assert.equal(p.candidate, "1.2.0");
      assert.equal(p.status, "rolled_back");
      assert.match(
        p.decisions[0]!.reasons[0]!,
        new RegExp(
          `prov@1\\.2\\.0 is switched off by kill switch ${again.id} \\(provider simulator, engaged by bob`,
        ),
      );
      await release(again.id);
    });

    test("a paused rollout whose candidate is switched off is rolled back too (its split still holds the weight)", async () => {
      await start("paused");
      await h.services.rollouts.pause(ctx(), "paused", "waiting for legal");
      const sw = await engage("version", "paused@1.1.0", "pulled");
      assert.equal(
        (await h.services.rollouts.killCheck((await status("paused")).id, systemContext()))?.action,
        "rollback",
      );
      assert.equal((await status("paused")).status, "rolled_back");
      assert.equal((await h.services.routes.get("paused")).split, null);
      await release(sw.id);
    });

    test("a switched-off baseline pauses a running rollout once per switch; an operator's resume stands", async () => {
      const started = await start("base");
      const sw = await engage("version", "base@1.0.0", "production leaks PII");
      await controller.kick();
      let r = await status("base");
      assert.equal(r.status, "paused");
      assert.equal(r.weight, 10, "the candidate keeps its share");
      assert.deepEqual(await h.services.routes.get("base").then((c) => c.split), [
        { version: "1.0.0", weight: 90 },
        { version: "1.1.0", weight: 10 },
      ]);
      assert.equal(r.decisions[0]!.decision, "pause");
      assert.match(
        r.pausedReason!,
        new RegExp(
          `the baseline base@1\\.0\\.0 is switched off by kill switch ${sw.id} .*production leaks PII`,
        ),
      );

      await h.services.rollouts.resume(ctx(), "base");
      await controller.kick();
      r = await status("base");
      assert.equal(r.status, "running", "not paused again for the same switch");
      // The resume makes an analysis due at once: it holds (too little data), nothing pauses again.
      assert.deepEqual(
        r.decisions.map((d) => d.decision),
        ["hold", "resume", "pause", "start"],
      );
      assert.equal(r.id, started.id);
      await release(sw.id);
      await h.services.rollouts.abort(ctx(), "base");
    });

    test("an experiment whose arm is switched off is stopped at the watcher's next look, the split cleared", async () => {
      const e = await h.services.experiments.create(ctx(), "exp", {
        name: "ab",
        arms: [
          { name: "control", version: "1.0.0", weight: 50 },
          { name: "b", version: "1.1.0", weight: 50 },
        ],
        primary: "success_rate",
        secondary: [],
        guardrails: [],
        minSamplePerArm: 100,
        minDurationMs: 0,
        plannedSamplePerArm: 1000,
        alpha: 0.05,
      });
      const watcher = createExperimentWatcher({ experiments: h.services.experiments, logger });
      await watcher.tick();
      assert.equal((await h.services.experiments.get("exp")).status, "running", "nothing switched off yet");
      const sw = await engage("version", "exp@1.1.0", "arm b leaks");
      await watcher.tick();
      const after = await h.services.experiments.get("exp");
      assert.equal(after.id, e.id);
      assert.equal(after.status, "stopped");
      assert.equal(
        after.stopReason,
        `arm 'b' (exp@1.1.0) is switched off by kill switch ${sw.id} (version exp@1.1.0, engaged by bob: arm b leaks): the experiment is stopped with the results so far`,
      );
      assert.equal((await h.services.routes.get("exp")).split, null);
      const audit = await h.services.audit.events({ action: "experiment.stopped", order: "asc", limit: 5 });
      assert.equal(audit.items.length, 1);
      assert.equal(audit.items[0]!.reason, after.stopReason);
      await release(sw.id);
    });

    test("a switched-off version gets no new rollout or experiment arm: 412 naming the field and the switch", async () => {
      const sw = await engage("provider", "simulator", "simulator down");
      const post = (path: string, body: unknown) =>
        h.request(`/api/v1/models/${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      const rollout = await post("calm/rollouts", { version: "1.2.0", plan: PLAN });
      const experiment = await post("calm/experiments", {
        name: "ab2",
        arms: [
          { name: "control", version: "1.0.0", weight: 50 },
          { name: "b", version: "1.2.0", weight: 50 },
        ],
      });
      for (const [res, field, version] of [
        [rollout, "body.version", "1.2.0"],
        [experiment, "body.arms.0.version", "1.0.0"],
      ] as const) {
        assert.equal(res.status, 412);
        assert.equal(res.headers.get("content-type"), "application/problem+json");
        const p = await readJson(res);
        assert.equal(p.errors[0].field, field);
        assert.equal(
          p.errors[0].reason,
          `calm@${version} is switched off by kill switch ${sw.id} (provider simulator, engaged by bob: simulator down); release it first`,
        );
      }
      assert.equal((await status("calm")).status, "aborted", "no new rollout");
      assert.equal((await h.services.routes.get("calm")).split, null);
      await release(sw.id);
    });
  });
}
