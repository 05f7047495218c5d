import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import os from "node:os";
import { describe, test } from "node:test";
import { runCli } from "../cli/main.ts";
import { DEMO_START, expectedFiringDay, type MonitorDemoResult } from "./monitor.ts";

const leftovers = () => readdirSync(os.tmpdir()).filter((f) => f.startsWith("modelgov-demo-monitor-")).length;

/** The timeline's events of these kinds, in order. */
const kinds = (r: Pick<MonitorDemoResult, "timeline">, wanted: string[]) =>
  r.timeline.filter((e) => wanted.includes(e.event)).map((e) => e.event);

describe("modelgov demo monitor, end to end (in-process store, gateway, monitoring job, eval worker, controller, webhooks)", () => {
  test("the firing day follows from the baseline and the UTC windows", () => {
    assert.equal(expectedFiringDay(DEMO_START, 7, 10, 3), 12);
    // Production from 09:00: the baseline ends at 09:00 on day 7, so the first whole window is day 8.
    assert.equal(expectedFiringDay(new Date(DEMO_START.getTime() + 9 * 3_600_000), 7, 7, 3), 10);
    assert.equal(expectedFiringDay(DEMO_START, 7, 7, 3), 9);
  });

  // One run of the whole loop, through the CLI (--json): two would cost the suite's budget.
  test("success decays and input drifts: the rule fires on the expected day and the loop closes with the retrained version promoted (modelgov demo monitor --json)", async () => {
    const before = leftovers();
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(["demo", "monitor", "--json", "--days", "13"], {
      io: { out: (s) => out.push(s), err: (s) => err.push(s) },
      env: {},
    });
    const r = JSON.parse(out.join("\n")) as Omit<MonitorDemoResult, "tookMs">;
    const lines = r.timeline.map((e) => `day ${e.day} ${e.at} ${e.event}: ${e.detail}`);
    assert.equal(code, r.ok ? 0 : 1, err.join("\n"));
    assert.deepEqual(Object.keys(r).sort(), [
      "candidate",
      "dataset",
      "failures",
      "fired",
      "ok",
      "task",
      "timeline",
      "webhook",
    ]);
    for (const e of r.timeline) {
      assert.deepEqual(Object.keys(e), ["day", "at", "event", "detail"]);
      assert.equal(e.day, Math.floor((Date.parse(e.at) - DEMO_START.getTime()) / 86_400_000));
    }
    // On failure, the timeline says what happened day by day.
    assert.equal(r.ok, true, [...r.failures, "", ...lines.slice(-40)].join("\n"));
    assert.deepEqual(r.failures, []);
    assert.deepEqual(r.fired, { rule: "success-decay", day: 12, expectedDay: 12 });
    // Before the decay nothing fired; the firing window is day 12, judged once it settled on day 13.
    const firedAt = r.timeline.filter((e) => e.event === "rule fired");
    assert.deepEqual(
      firedAt.map((e) => [e.day, e.at]),
      [
        [13, "2026-03-15T01:05:00.000Z"],
        [13, "2026-03-15T01:05:00.000Z"],
      ],
    );
    assert.match(firedAt[0]!.detail, /^success-decay on the window of day 12 .*significantly worse/);
    assert.match(firedAt[1]!.detail, /^input-drift on the window of day 12 .*psi of tokens_in/);
    assert.deepEqual(
      kinds(r, [
        "production",
        "rule fired",
        "task opened",
        "dataset exported",
        "training",
        "candidate registered",
        "evaluated",
        "approved",
        "canary started",
        "canary ended",
        "task closed",
      ]),
      [
        "production",
        "rule fired",
        "task opened",
        "rule fired",
        "dataset exported",
        "training",
        "candidate registered",
        "evaluated",
        "approved",
        "canary started",
        "canary ended",
        "task closed",
      ],
    );
    // Traffic: the decay shows in the day's success and the drift in its prompts.
    const traffic = r.timeline.filter((e) => e.event === "traffic");
    assert.equal(traffic.length, 13);
    const success = traffic.map((e) => Number(/success ([\d.]+)%/.exec(e.detail)![1]));
    const tokens = traffic.map((e) => Number(/mean input (\d+) tokens/.exec(e.detail)![1]));
    // 160 simulated answers a day: a day's rate wanders by about 3 points around its level.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(
      mean(success.slice(0, 10)) - mean(success.slice(10)) > 12 &&
        success.slice(0, 10).every((x) => x >= 70) &&
        success.slice(10).every((x) => x <= 75),
      `${success}`,
    );
    assert.ok(
      tokens.slice(10).every((x) => x > 2 * tokens[0]!),
      `${tokens}`,
    );

    assert.equal(r.task?.state, "closed");
    assert.match(r.task?.id ?? "", /^rtk_/);
    assert.ok(r.dataset.lines > 50, `${r.dataset.lines} lines`);
    assert.equal(r.dataset.corrected, r.dataset.lines);
    assert.equal(r.dataset.withoutBody, 0);
    assert.equal(r.candidate.version, "1.1.0");
    assert.equal(r.candidate.evaluation?.passed, true);
    assert.ok((r.candidate.evaluation?.p ?? 1) < 0.05);
    assert.ok(r.candidate.evaluation!.candidate! > r.candidate.evaluation!.production!);
    assert.equal(r.candidate.rollout?.status, "promoted");

    const events = r.webhook.delivered.map((d) => d.event);
    for (const e of [
      "monitor.rule_fired",
      "retraining.opened",
      "retraining.evidence_added",
      "retraining.evaluated",
      "retraining.rolled_out",
      "retraining.closed",
    ])
      assert.ok(events.includes(e), `${e} in ${events.join(", ")}`);
    assert.ok(r.webhook.delivered.every((d) => d.signatureValid));
    assert.equal(new Set(r.webhook.delivered.map((d) => d.delivery)).size, r.webhook.delivered.length);
    assert.equal(leftovers(), before, "the throwaway store is removed");
  });

  test("--days under the minimum is a usage error", async () => {
    const bad: string[] = [];
    const refused = await runCli(["demo", "monitor", "--days", "5"], {
      io: { out: (s) => bad.push(s), err: (s) => bad.push(s) },
      env: {},
    });
    assert.equal(refused, 2);
    assert.match(bad.join("\n"), /--days: a whole number from 13 to 90/);
  });
});
