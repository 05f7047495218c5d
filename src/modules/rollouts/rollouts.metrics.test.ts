import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Plan } from "../../engines/rollout/index.ts";
import { createLogger } from "../../lib/logger.ts";
import { seedModel } from "../../test-support/rollouts.ts";
import { ctx, type Harness, openHarness, storeTargets } from "../../test-support/stores.ts";
import { createRolloutController, type RolloutController } from "./controller.ts";

const SEC = 1000;
const PLAN: Plan = {
  name: "test",
  steps: [
    { weight: 10, durationMs: 60 * SEC },
    { weight: 50, durationMs: 60 * SEC },
    { weight: 100, durationMs: 60 * SEC },
  ],
  analysisIntervalMs: 10 * SEC,
  minSamplePerArm: 40,
  failureLimit: 2,
  alpha: 0.05,
  metrics: [{ kind: "error_rate", max: 0.05 }],
  fastPath: { windowMs: 10 * SEC, minRequests: 20, maxErrorRate: 0.3 },
};

/** The value of one sample line, e.g. `name{a="b"}`. */
const sample = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe("rollout metrics", () => {
  let h: Harness;
  let controller: RolloutController;
  const scrape = async () => (await h.services.metrics.render()).body;
  const labels = (model: string, version = "1.1.0") =>
    `{model="${model}",version="${version}",baseline="1.0.0",mode="canary"}`;

  before(async () => {
    h = await openHarness(storeTargets()[0]!);
    for (const m of ["steady", "killed"]) await seedModel(h, m);
    controller = createRolloutController({
      db: h.db,
      rollouts: h.services.rollouts,
      logger: createLogger("silent"),
      tickMs: 3_600_000,
      onDecision: h.services.countRolloutDecision,
    });
  });
  after(async () => {
    await controller.stop();
    await h.cleanup();
  });

  test("an active rollout's weight, step and pause are read at scrape time; an ended one leaves", async () => {
    await h.services.rollouts.start(ctx(), "steady", "1.1.0", { plan: PLAN });
    let body = await scrape();
    assert.equal(sample(body, `modelgov_rollout_weight${labels("steady")}`), 10);
    assert.equal(sample(body, `modelgov_rollout_step${labels("steady")}`), 1);
    assert.equal(sample(body, `modelgov_rollout_steps${labels("steady")}`), 3);
    assert.equal(sample(body, `modelgov_rollout_paused${labels("steady")}`), 0);

    await h.services.rollouts.promote(ctx(), "steady");
    await h.services.rollouts.pause(ctx(), "steady");
    body = await scrape();
    assert.equal(sample(body, `modelgov_rollout_weight${labels("steady")}`), 50);
    assert.equal(sample(body, `modelgov_rollout_step${labels("steady")}`), 2);
    assert.equal(sample(body, `modelgov_rollout_paused${labels("steady")}`), 1);

    await h.services.rollouts.abort(ctx(), "steady");
    body = await scrape();
    assert.equal(sample(body, `modelgov_rollout_weight${labels("steady")}`), undefined);
    assert.match(body, /^# TYPE modelgov_rollout_weight gauge$/m, "still declared, with no series");
  });

  test("the controller counts its decisions by action and what decided them", async () => {
    await h.services.rollouts.start(ctx(), "steady", "1.2.0", { plan: PLAN });
    // The first analysis is due: no traffic at all, so the verdict is insufficient_data.
    h.clock.advance(11 * SEC);
    await controller.kick();
    let body = await scrape();
    const judged = [
      ...body.matchAll(
        /^modelgov_rollout_decisions_total\{action="(\w+)",verdict="insufficient_data"\} (\d+)$/gm,
      ),
    ];
    assert.equal(judged.length, 1, body);
    assert.equal(Number(judged[0]![2]), 1);
    assert.ok(["hold", "paused"].includes(judged[0]![1]!), judged[0]![1]);

    await h.services.rollouts.start(ctx(), "killed", "1.1.0", { plan: PLAN });
    await h.services.killSwitches.engage(ctx("bob"), {
      scope: "version",
      target: "killed@1.1.0",
      reason: "leaks the system prompt",
    });
    await controller.kick();
    body = await scrape();
    assert.equal(
      sample(body, 'modelgov_rollout_decisions_total{action="rollback",verdict="kill_switch"}'),
      1,
    );
    assert.equal(sample(body, `modelgov_rollout_weight${labels("killed")}`), undefined, "rolled back: gone");
  });
});
