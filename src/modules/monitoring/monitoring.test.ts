import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../lib/logger.ts";
import { seedModel, sendTraffic } from "../../test-support/rollouts.ts";
import { allStoreTargets, ctx, type Harness, openHarness, readJson } from "../../test-support/stores.ts";
import { createMonitoringJob } from "./job.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const JSON_HEADERS = { "content-type": "application/json" };

for (const target of allStoreTargets()) {
  describe(`monitoring on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    const ids: Record<string, string> = {};
    const job = () =>
      createMonitoringJob({
        db: h.db,
        monitoring: h.services.monitoring,
        logger: createLogger("silent"),
        holder: "a",
      });
    const setConfig = (model: string, body: unknown, token?: string) =>
      h.request(
        `/api/v1/models/${model}/monitor/config`,
        { method: "PUT", headers: JSON_HEADERS, body: JSON.stringify(body) },
        token,
      );
    /** One day of traffic at a success rate, then to the next day. */
    const day = async (model: string, rate: number, count = 300) => {
      await sendTraffic(h, ids, model, "1.0.0", count, { successRate: rate });
      h.clock.advance(DAY);
    };

    before(async () => {
      h = await openHarness(target); // 2026-03-01T09:00Z
      Object.assign(ids, await seedModel(h, "support"));
      Object.assign(ids, await seedModel(h, "other"));
    });
    after(async () => {
      await h.cleanup();
    });

    test("a rule in words that cannot be read, or a bad field, is a problem naming the field; a viewer cannot set a monitor", async () => {
      const bad = await setConfig("support", { rules: ["success rate is bad"] });
      assert.equal(bad.status, 400);
      assert.match(bad.headers.get("content-type") ?? "", /problem\+json/);
      const problem = await readJson(bad);
      assert.equal(problem.errors[0].field, "body.rules.0");
      assert.match(problem.errors[0].reason, /cannot read the rule/);
      const field = await setConfig("support", {
        rules: ["success rate drops 10% from baseline"],
        settleMinutes: -1,
      });
      assert.equal(field.status, 400);
      assert.equal((await readJson(field)).errors[0].field, "body.settleMinutes");
      const viewer = await h.tokenFor("watcher", ["viewer"]);
      assert.equal(
        (await setConfig("support", { rules: ["success rate drops 10% from baseline"] }, viewer)).status,
        403,
      );
      assert.equal((await h.request("/api/v1/models/support/monitor")).status, 404, "no monitor yet");
      const events = await h.services.audit.events({ action: "monitor.config_set", limit: 10, order: "asc" });
      assert.equal(events.items.length, 0, "nothing refused was recorded");
    });

    test("success decays: the rule fires on the expected day, once; the evidence holds the run; a recovery resolves it", async () => {
      const set = await setConfig("support", {
        baseline: { kind: "first-days", days: 3 },
        rules: [{ when: "success rate drops >10% from baseline for >2 consecutive days", name: "decay" }],
        settleMinutes: 60,
      });
      assert.equal(set.status, 200, await set.clone().text());
      const fired: string[] = [];
      const j = job();
      // Production since 09:00 on day 0: the baseline is [day0 09:00, day3 09:00); windows are UTC days from day 4.
      for (let d = 0; d < 4; d++) await day("support", 0.8);
      await j.tick();
      let status = await readJson(await h.request("/api/v1/models/support/monitor"));
      assert.equal(status.version, "1.0.0");
      assert.equal(status.baseline.complete, true);
      assert.equal(status.rules[0].state, "pending", "no window after the baseline has ended yet");
      // Days 4..: success falls to 0.6 (a 25% drop, past the 10% margin).
      for (let d = 0; d < 5; d++) {
        await day("support", 0.6);
        await j.tick();
        status = await readJson(await h.request("/api/v1/models/support/monitor"));
        fired.push(status.rules[0].state);
      }
      // The first judged day is 2026-03-05 (UTC), the first after the baseline; the third breach fires.
      assert.deepEqual(fired, ["breaching", "breaching", "firing", "firing", "firing"]);
      assert.equal(status.rules[0].streak, 5);
      const events = (
        await h.services.audit.events({ action: "monitor.rule_fired", limit: 10, order: "asc" })
      ).items;
      assert.equal(events.length, 1, "a continuing breach does not fire again");
      const evidence = events[0]!.after as { windows: { status: string }[]; rule: string; version: string };
      assert.equal(evidence.rule, "decay");
      assert.equal(evidence.version, "1.0.0");
      assert.equal(evidence.windows.length, 3);
      assert.ok(evidence.windows.every((w) => w.status === "breach"));
      assert.deepEqual(
        evidence.windows.map((w) => (w as unknown as { windowStart: string }).windowStart),
        ["2026-03-05T00:00:00.000Z", "2026-03-06T00:00:00.000Z", "2026-03-07T00:00:00.000Z"],
      );
      const history = await readJson(await h.request("/api/v1/models/support/monitor/history?rule=decay"));
      assert.ok(history.windows.length >= 5);
      assert.ok(
        history.windows.every(
          (w: { windowEnd: string; windowStart: string }) =>
            Date.parse(w.windowEnd) - Date.parse(w.windowStart) === DAY,
        ),
      );

      // Recovery: the next judged day passes and the rule resolves.
      await day("support", 0.8);
      await day("support", 0.8);
      await j.tick();
      status = await readJson(await h.request("/api/v1/models/support/monitor"));
      assert.equal(status.rules[0].state, "ok");
      assert.equal(
        (await h.services.audit.events({ action: "monitor.rule_resolved", limit: 10, order: "asc" })).items
          .length,
        1,
      );
      // The gauges report the state.
      const metrics = await (await h.request("/metrics")).text();
      assert.match(metrics, /modelgov_monitor_rule_state\{model="support",version="1.0.0",rule="decay"\} 0/);
    });

    test("an evaluation baseline: the version's last evaluation before production; live success far below it breaches", async () => {
      const third = await seedModel(h, "third");
      Object.assign(ids, third);
      const versionId = third["third@1.0.0"]!;
      const since = h.clock.now();
      const before = new Date(since.getTime() - HOUR).toISOString();
      await h.db.query(
        "INSERT INTO eval_suites (hash, name, case_count, content, created_at) VALUES ('sha256:mon', 'mon-suite', 200, '{}', $1)",
        [before],
      );
      await h.db.query(
        `INSERT INTO eval_runs (id, version_id, suite_hash, suite_name, status, options, total, created_by, created_at, finished_at)
         VALUES ('evr_mon', $1, 'sha256:mon', 'mon-suite', 'completed', '{}', 200, 'ci', $2, $2)`,
        [versionId, before],
      );
      for (let i = 0; i < 200; i++)
        await h.db.query(
          `INSERT INTO eval_case_results (run_id, case_id, passed, score, safety_violation, latency_ms, tokens_in, tokens_out,
                                          cost_usd, attempts, scorers, attributes, recorded_at)
           VALUES ('evr_mon', $1, $2, $3, false, 100, 10, 20, 0.001, 1, '[]', $5, $4)`,
          [
            `c${i}`,
            i % 10 !== 0,
            i % 10 !== 0 ? 1 : 0,
            before,
            JSON.stringify({ region: i % 2 ? "eu" : "us" }),
          ],
        );
      const set = await setConfig("third", {
        baseline: { kind: "evaluation", suite: "mon-suite" },
        rules: [
          "success rate drops >10% from baseline for 2 days",
          "PSI of input tokens > 0.2 for 2 days",
          { when: "success rate for region=eu drops >10% from baseline for 2 days", name: "eu" },
          { when: "output tokens per call drops >30% from baseline for 2 days", name: "shorter" },
        ],
      });
      assert.equal(set.status, 200, await set.clone().text());
      for (let d = 0; d < 4; d++) await day("third", 0.6, 200);
      await h.services.monitoring.runModel(ctx(), "third");
      const status = await readJson(await h.request("/api/v1/models/third/monitor"));
      assert.equal(status.baseline.to, before);
      const [success, drift, eu, shorter] = status.rules;
      // The run's cases answered in 20 tokens, live calls in 10: the cases' token counts are the baseline.
      assert.deepEqual([shorter.last.baseline, shorter.last.value, shorter.state], [20, 10, "firing"]);
      assert.equal(eu.last.baseline, 1, "eu's cases only (every odd case, all passed)");
      assert.equal(eu.state, "firing");
      // What each rule watches, for the console's titles and units.
      assert.deepEqual(
        [success.metric, success.feature, success.statistic, drift.metric, drift.feature, drift.statistic],
        ["successRate", null, null, null, "tokens_in", "psi"],
      );
      assert.equal(success.state, "firing", JSON.stringify(success));
      assert.equal(success.last.baseline, 0.9, "the run's pass rate: 180 of 200");
      assert.equal(drift.last.status, "insufficient");
      assert.match(drift.last.reason, /evaluation baseline has no request features/);
    });

    test("a group's success rule sees a decay in that group alone, which the whole version's rule does not", async () => {
      Object.assign(ids, await seedModel(h, "grp"));
      const set = await setConfig("grp", {
        baseline: { kind: "first-days", days: 1 },
        rules: [
          { when: "success rate for region=eu drops >10% from baseline for 2 days", name: "eu" },
          { when: "success rate drops >10% from baseline for 2 days", name: "all" },
        ],
      });
      assert.equal(set.status, 200, await set.clone().text());
      await sendTraffic(h, ids, "grp", "1.0.0", 400, { groups: { "region=eu": 0.8, "region=us": 0.8 } });
      h.clock.advance(DAY);
      for (let d = 0; d < 4; d++) {
        // eu falls to 0.6; us rises to 0.9: the version as a whole moves from 0.80 to 0.75.
        await sendTraffic(h, ids, "grp", "1.0.0", 400, { groups: { "region=eu": 0.6, "region=us": 0.9 } });
        h.clock.advance(DAY);
      }
      await h.services.monitoring.runModel(ctx(), "grp");
      const status = await readJson(await h.request("/api/v1/models/grp/monitor"));
      const byName = Object.fromEntries(status.rules.map((r: { name: string }) => [r.name, r]));
      assert.equal(byName.eu.state, "firing", JSON.stringify(byName.eu));
      assert.equal(byName.eu.last.n, 200, "only eu's judged requests");
      assert.equal(byName.all.state, "ok", JSON.stringify(byName.all.last));
    });

    test("a stable version does not fire, and a window judged twice (two passes, a replay) is stored once", async () => {
      await setConfig("other", {
        baseline: { kind: "first-days", days: 1 },
        rules: ["success rate drops >10% from baseline for 2 days"],
      });
      const before = (
        await h.services.audit.events({ action: "monitor.rule_fired", limit: 100, order: "asc" })
      ).items.length;
      for (let d = 0; d < 6; d++) await day("other", 0.8, 200);
      const [a, b] = [job(), job()];
      await Promise.all([a.tick(), b.tick()]);
      await h.services.monitoring.runModel(ctx(), "other");
      const rows = await h.db.query<{ n: string; distinct_starts: string }>(
        "SELECT count(*) AS n, count(DISTINCT window_start) AS distinct_starts FROM monitor_windows WHERE model = 'other'",
      );
      assert.equal(rows[0]!.n, rows[0]!.distinct_starts);
      assert.ok(Number(rows[0]!.n) >= 4);
      assert.equal(
        (await h.services.audit.events({ action: "monitor.rule_fired", limit: 100, order: "asc" })).items
          .length,
        before,
      );
    });
  });
}
