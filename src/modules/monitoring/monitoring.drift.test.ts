import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../lib/logger.ts";
import { seedModel } from "../../test-support/rollouts.ts";
import { allStoreTargets, type Harness, openHarness, readJson } from "../../test-support/stores.ts";
import type { RequestFeatures } from "../request-log/index.ts";
import { createMonitoringJob } from "./job.ts";

/*
 * Drift rules read the features the gateway derives, through the request log's hourly feature
 * roll-up (services.ts wires `readFeatures` to `featureHistograms`).
 */

const DAY = 86_400_000;

for (const target of allStoreTargets()) {
  describe(`drift on the request log's features, on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let ids: Record<string, string> = {};
    before(async () => {
      h = await openHarness(target); // 2026-03-01T09:00Z
      ids = await seedModel(h, "triage");
    });
    after(async () => {
      await h.cleanup();
    });

    /** A day of requests whose last user message is Cyrillic in `cyrillic` of them, the rest Latin. */
    async function day(
      count: number,
      cyrillic: number,
      tag: string,
      opts: { tokensOut?: (i: number) => number; model?: string } = {},
    ) {
      const tokensOut = opts.tokensOut ?? ((i: number) => 8 + (i % 9));
      const model = opts.model ?? "triage";
      const versionId = ids[`${model}@1.0.0`]!;
      for (let i = 0; i < count; i++) {
        const features: RequestFeatures = {
          messages: 2,
          script: i < cyrillic ? "cyrillic" : "latin",
          toolsOffered: 0,
          toolCalls: 0,
          refusal: false,
          valid: null,
          label: null,
          finishReason: "stop",
        };
        h.services.requestLog.record({
          id: `req_drift_${model}_${tag}_${i}`,
          at: new Date(h.clock.now().getTime() + i * 60_000),
          tokenId: "tok_a",
          client: "bot",
          model,
          versionId,
          version: "1.0.0",
          routeReason: "alias:production",
          endpoint: "chat.completions",
          stream: false,
          status: 200,
          errorClass: null,
          totalMs: 100,
          upstreamMs: 90,
          tokensIn: 40,
          tokensOut: tokensOut(i),
          costUsd: 0.001,
          fallbackPath: [
            { versionId, version: "1.0.0", outcome: "served", attempts: 1, durationMs: 90 },
          ] as never,
          features,
        });
      }
      await h.services.requestLog.flush();
      h.clock.advance(DAY);
    }

    test("a shift in the users' script fires a PSI rule: the baseline's and each day's histograms come from the feature roll-up", async () => {
      const set = await h.request("/api/v1/models/triage/monitor/config", {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          baseline: { kind: "first-days", days: 2 },
          rules: [
            { when: "PSI of script > 0.2 for 2 days", name: "language" },
            { when: "output tokens per call rises >30% from baseline for 2 days", name: "longer" },
            { when: "input tokens per call rises >30% from baseline for 2 days", name: "prompts" },
          ],
          settleMinutes: 60,
        }),
      });
      assert.equal(set.status, 200, await set.clone().text());
      const job = createMonitoringJob({
        db: h.db,
        monitoring: h.services.monitoring,
        logger: createLogger("silent"),
        holder: "a",
      });
      for (let d = 0; d < 3; d++) await day(400, 40, `base${d}`); // 10% Cyrillic
      await job.tick();
      const states: string[][] = [];
      for (let d = 0; d < 3; d++) {
        // 60% Cyrillic; answers of 16-24 tokens instead of 8-16
        await day(400, 240, `shift${d}`, { tokensOut: (i) => 16 + (i % 9) });
        await job.tick();
        const status = await readJson(await h.request("/api/v1/models/triage/monitor"));
        states.push(status.rules.map((r: { state: string }) => r.state));
        for (const r of status.rules) assert.notEqual(r.last?.status, "insufficient", JSON.stringify(r.last));
      }
      // The first judged day breaches, the second (two days running) fires; input tokens held.
      assert.deepEqual(states, [
        ["breaching", "breaching", "ok"],
        ["firing", "firing", "ok"],
        ["firing", "firing", "ok"],
      ]);
      const longer = await readJson(await h.request("/api/v1/models/triage/monitor/history?rule=longer"));
      const judged = longer.windows.filter((w: { status: string }) => w.status === "breach");
      assert.ok(judged.length >= 2);
      // The means are exact (the roll-ups' sums): 8 + mean(i % 9) over 400 calls, and 16 + that.
      const spread = Array.from({ length: 400 }, (_, i) => i % 9).reduce((a, b) => a + b, 0) / 400;
      for (const w of judged) {
        assert.ok(Math.abs(w.value - (16 + spread)) < 1e-9, `mean output tokens ${w.value}`);
        assert.ok(Math.abs(w.baseline - (8 + spread)) < 1e-9, `baseline ${w.baseline}`);
      }
      const history = await readJson(await h.request("/api/v1/models/triage/monitor/history?rule=language"));
      const breaches = history.windows.filter((w: { status: string }) => w.status === "breach");
      assert.ok(breaches.length >= 2);
      assert.ok(
        breaches.every((w: { value: number }) => w.value > 0.2),
        "PSI past the threshold",
      );
    });

    test("a drift window waits while the features backfill has not summed its hours (or its baseline's), then is judged", async () => {
      ids = { ...ids, ...(await seedModel(h, "sorter")) };
      const set = await h.request("/api/v1/models/sorter/monitor/config", {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          baseline: { kind: "first-days", days: 1 },
          rules: [{ when: "PSI of script > 0.2 for 2 days", name: "language" }],
          settleMinutes: 60,
        }),
      });
      assert.equal(set.status, 200, await set.clone().text());
      const job = createMonitoringJob({
        db: h.db,
        monitoring: h.services.monitoring,
        logger: createLogger("silent"),
        holder: "a",
      });
      // As after an upgrade: every hour up to far ahead still to backfill.
      await h.db.query(
        "UPDATE request_feature_backfill SET lo = '2026-01-01', next_hour = '2030-01-01', finished_at = NULL",
      );
      for (let d = 0; d < 3; d++) await day(200, 20, `wait${d}`, { model: "sorter" });
      await job.tick();
      const judged = async () =>
        (await readJson(await h.request("/api/v1/models/sorter/monitor/history?rule=language"))).windows
          .length as number;
      assert.equal(await judged(), 0, "no window judged on half-summed hours");
      // The backfill has passed the days written (newest first) but not the baseline: still waiting.
      await h.db.query("UPDATE request_feature_backfill SET next_hour = $1", [
        new Date(h.clock.now().getTime() - 2 * DAY).toISOString(),
      ]);
      await job.tick();
      assert.equal(await judged(), 0, "the baseline is not summed yet");
      await h.db.query("UPDATE request_feature_backfill SET finished_at = now()");
      await job.tick();
      assert.ok((await judged()) >= 1, "judged once the backfill is done");
    });
  });
}
