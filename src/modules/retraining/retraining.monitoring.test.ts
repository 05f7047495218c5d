import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../lib/logger.ts";
import { seedModel, sendTraffic } from "../../test-support/rollouts.ts";
import { allStoreTargets, type Harness, openHarness } from "../../test-support/stores.ts";
import { createMonitoringJob } from "../monitoring/index.ts";

const DAY = 24 * 3_600_000;

for (const target of allStoreTargets()) {
  describe(`a monitor that fires opens a retraining task on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let ids: Record<string, string> = {};
    const day = async (rate: number) => {
      await sendTraffic(h, ids, "watched", "1.0.0", 300, { successRate: rate });
      h.clock.advance(DAY);
    };
    const active = async () =>
      (await h.services.retraining.list({ model: "watched", state: "active", limit: 10 })).items;

    before(async () => {
      h = await openHarness(target); // 2026-03-01T09:00Z
      ids = await seedModel(h, "watched");
      const set = await h.request("/api/v1/models/watched/monitor/config", {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          baseline: { kind: "first-days", days: 3 },
          rules: [{ when: "success rate drops >10% from baseline for >2 consecutive days", name: "decay" }],
          settleMinutes: 60,
        }),
      });
      assert.equal(set.status, 200, await set.clone().text());
    });
    after(() => h.cleanup());

    test("the firing window opens the task with the run as evidence; a continuing breach adds evidence, not tasks", async () => {
      const job = createMonitoringJob({
        db: h.db,
        monitoring: h.services.monitoring,
        logger: createLogger("silent"),
        holder: "a",
      });
      for (let d = 0; d < 4; d++) await day(0.8);
      await job.tick();
      // Two breaching days: breaching, not fired, no task.
      for (let d = 0; d < 2; d++) {
        await day(0.6);
        await job.tick();
      }
      assert.deepEqual(await active(), []);
      await day(0.6);
      await job.tick();
      const [task, ...more] = await active();
      assert.ok(task, "the third breaching day fires and opens a task");
      assert.deepEqual(more, []);
      assert.equal(task.rule, "decay");
      assert.equal(task.metric, "successRate");
      assert.equal(task.version, "1.0.0");
      assert.equal(task.openedBy, "monitoring");
      const shown = await h.services.retraining.get(task.id);
      const windows = shown.evidence[0]!.evidence.windows as {
        from: string;
        breached: boolean;
        value: number;
      }[];
      assert.deepEqual(
        windows.map((w) => [w.from, w.breached]),
        [
          ["2026-03-05T00:00:00.000Z", true],
          ["2026-03-06T00:00:00.000Z", true],
          ["2026-03-07T00:00:00.000Z", true],
        ],
      );
      assert.ok(windows.every((w) => w.value < 0.7));
      const opened = (await h.services.audit.events({ action: "retraining.opened", limit: 5, order: "asc" }))
        .items;
      assert.equal(opened.length, 1);
      assert.equal(opened[0]!.actor, "monitoring");
      // The fired audit event and the task's opening commit in the window's transaction.
      const fired = (await h.services.audit.events({ action: "monitor.rule_fired", limit: 5, order: "asc" }))
        .items;
      assert.equal(fired.length, 1);
      assert.ok(fired[0]!.position < opened[0]!.position);

      await day(0.6);
      await job.tick();
      const after = await active();
      assert.deepEqual(
        after.map((t) => [t.id, t.evidenceCount]),
        [[task.id, 2]],
      );
      const export_ = await h.services.retraining.dataset(task.id, {
        format: "openai-jsonl",
        include: "all",
      });
      assert.deepEqual(export_.ranges, [
        { versionId: ids["watched@1.0.0"], from: "2026-03-05T00:00:00.000Z", to: "2026-03-09T00:00:00.000Z" },
      ]);
      await export_.lines.return(undefined);
      await job.stop();
    });
  });
}
