import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Plan } from "../../engines/rollout/index.ts";
import { systemContext } from "../../http/context.ts";
import { seedModel, sendTraffic, type TrafficOptions } from "../../test-support/rollouts.ts";
import { allStoreTargets, ctx, type Harness, openHarness, readJson } from "../../test-support/stores.ts";

const SEC = 1000;

/** 10% → 50% → 100%, one minute each; two failed analyses in a row roll back. */
const PLAN: Plan = {
  name: "verdict-test",
  steps: [
    { weight: 10, durationMs: 60 * SEC },
    { weight: 50, durationMs: 60 * SEC },
    { weight: 100, durationMs: 60 * SEC },
  ],
  analysisIntervalMs: 10 * SEC,
  minSamplePerArm: 40,
  failureLimit: 2,
  alpha: 0.05,
  metrics: [
    { kind: "success_rate", maxRelativeDrop: 0.1 },
    { kind: "error_rate", max: 0.05 },
    { kind: "group_success_gap", maxGapPoints: 20, minGroupSize: 20 },
  ],
  fastPath: { windowMs: 10 * SEC, minRequests: 20, maxErrorRate: 0.3 },
};

for (const target of allStoreTargets()) {
  describe(`GET /api/v1/models/{model}/rollout/verdict on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    const ids: Record<string, string> = {};
    const ctl = systemContext("rollout-controller", "ctl_verdict");
    const traffic = (model: string, version: string, count: number, opts?: TrafficOptions) =>
      sendTraffic(h, ids, model, version, count, opts);
    const verdict = async (model: string, query = "", token?: string) => {
      const res = await h.request(`/api/v1/models/${model}/rollout/verdict${query}`, {}, token);
      return { status: res.status, type: res.headers.get("content-type") ?? "", body: await readJson(res) };
    };

    before(async () => {
      h = await openHarness(target);
      for (const m of ["healthy", "biased", "erroring", "paused", "quiet", "stepped"])
        Object.assign(ids, await seedModel(h, m));
    });
    after(() => h.cleanup());

    test("bad input is problem+json naming the field; unknown model or no rollout is 404; reading needs a token", async () => {
      const bad = await verdict("quiet", "?candidate=not-a-version");
      assert.equal(bad.status, 400);
      assert.match(bad.type, /application\/problem\+json/);
      assert.ok(
        bad.body.errors.some((e: { field: string }) => /candidate/.test(e.field)),
        JSON.stringify(bad.body),
      );
      const none = await verdict("quiet");
      assert.equal(none.status, 404);
      assert.match(none.type, /application\/problem\+json/);
      assert.match(none.body.detail, /a rollout of 'quiet'/);
      assert.equal((await verdict("no-such-model")).status, 404);
      await h.services.rollouts.start(ctx(), "quiet", "1.1.0", { plan: PLAN });
      const otherCandidate = await verdict("quiet", "?candidate=1.2.0");
      assert.equal(otherCandidate.status, 404);
      assert.match(otherCandidate.body.detail, /quiet@1\.2\.0/);
      const anonymous = await h.app.request("/api/v1/models/quiet/rollout/verdict");
      assert.equal(anonymous.status, 401);
      // A read-only token (what an Argo AnalysisTemplate carries) may ask.
      const viewer = await h.tokenFor("argo", ["viewer"]);
      assert.equal((await verdict("quiet", "", viewer)).status, 200);
    });

    test("hold on too little data; promote once the judge passes the step, and after the rollout is promoted", async () => {
      const r = await h.services.rollouts.start(ctx(), "healthy", "1.1.0", { plan: PLAN });
      await traffic("healthy", "1.0.0", 10);
      await traffic("healthy", "1.1.0", 5);
      const early = await verdict("healthy", "?candidate=1.1.0");
      assert.equal(early.status, 200);
      assert.equal(early.body.verdict, "hold");
      assert.equal(early.body.analysis.verdict, "insufficient_data");
      assert.equal(early.body.rollout, r.id);
      assert.deepEqual(early.body.analysis.samples, { baseline: 10, candidate: 5 });

      await traffic("healthy", "1.0.0", 300, { successRate: 0.9 });
      await traffic("healthy", "1.1.0", 200, { successRate: 0.92 });
      const passed = await verdict("healthy");
      assert.equal(passed.body.verdict, "promote", passed.body.reasons.join("; "));
      assert.equal(passed.body.analysis.verdict, "pass");
      // The step's minute is not up: the controller holds, the outside canary may go on.
      assert.equal(passed.body.analysis.action, "hold");
      assert.match(passed.body.reasons[0], /passes every metric/);
      assert.ok(passed.body.analysis.metrics.some((m: { metric: string }) => m.metric === "success_rate"));

      // Read-only: the rollout is where it was, with no decision recorded by the looks above.
      const still = (await h.services.rollouts.status("healthy"))!;
      assert.equal(still.stepIndex, 0);
      assert.deepEqual(
        still.decisions.map((d) => d.decision),
        ["start"],
      );

      await h.services.rollouts.promote(ctx(), "healthy", { full: true });
      const done = await verdict("healthy", "?candidate=1.1.0");
      assert.equal(done.body.verdict, "promote");
      assert.equal(done.body.status, "promoted");
      assert.equal(done.body.analysis, null);
      assert.match(done.body.reasons[0], /was promoted at /);
    });

    test("just after the controller advances on a pass, the new step's lack of data does not hold; a failure in it does", async () => {
      const r = await h.services.rollouts.start(ctx(), "stepped", "1.1.0", { plan: PLAN });
      await traffic("stepped", "1.0.0", 300, { successRate: 0.9 });
      await traffic("stepped", "1.1.0", 200, { successRate: 0.92 });
      // The step's minute is up, and the traffic above is before the next step begins.
      h.clock.advance(61 * SEC);
      const advanced = (await h.services.rollouts.analyze(r.id, ctl))!;
      assert.equal(advanced.decision.action, "advance");
      const fresh = await verdict("stepped", "?candidate=1.1.0");
      assert.equal(fresh.body.stepIndex, 1);
      assert.equal(fresh.body.analysis.verdict, "insufficient_data");
      assert.equal(fresh.body.verdict, "promote", fresh.body.reasons.join("; "));
      assert.match(
        fresh.body.reasons[0],
        /step 2 of 3: too little data yet, nothing failed; the candidate passed step 1/,
      );

      // A look in the new step records a hold; the step was still entered on a pass.
      h.clock.advance(11 * SEC);
      await h.services.rollouts.analyze(r.id, ctl);
      assert.equal((await verdict("stepped")).body.verdict, "promote");

      await traffic("stepped", "1.0.0", 300, { groups: { "age_band=18-34": 0.9, "age_band=65+": 0.9 } });
      await traffic("stepped", "1.1.0", 300, { groups: { "age_band=18-34": 0.95, "age_band=65+": 0.3 } });
      const failing = await verdict("stepped");
      assert.equal(failing.body.analysis.verdict, "fail");
      assert.equal(failing.body.verdict, "hold", failing.body.reasons.join("; "));
    });

    test("a failing group holds at the first failed look and rolls back at the one that reaches the limit", async () => {
      const r = await h.services.rollouts.start(ctx(), "biased", "1.1.0", { plan: PLAN });
      h.clock.advance(11 * SEC);
      await traffic("biased", "1.0.0", 400, { groups: { "age_band=18-34": 0.9, "age_band=65+": 0.9 } });
      await traffic("biased", "1.1.0", 200, { groups: { "age_band=18-34": 0.95, "age_band=65+": 0.4 } });
      const first = await verdict("biased");
      assert.equal(first.body.verdict, "hold", first.body.reasons.join("; "));
      assert.equal(first.body.analysis.verdict, "fail");
      assert.match(first.body.reasons.join(" "), /failed analysis 1 in a row \(rollback at 2\)/);
      assert.match(first.body.reasons.join(" "), /65\+/);

      // The controller takes the same look and counts the failure; the next look would roll back.
      const look = (await h.services.rollouts.analyze(r.id, ctl))!;
      assert.equal(look.decision.action, "hold");
      const second = await verdict("biased", "?candidate=1.1.0");
      assert.equal(second.body.verdict, "rollback");
      assert.equal(second.body.analysis.action, "rollback");
      assert.match(second.body.reasons[0], /2 failed analyses in a row reach the limit of 2/);
      assert.equal(
        (await h.services.rollouts.status("biased"))!.status,
        "running",
        "the verdict changes nothing",
      );

      await h.services.rollouts.analyze(r.id, ctl);
      const ended = await verdict("biased", "?candidate=1.1.0");
      assert.equal(ended.body.verdict, "rollback");
      assert.equal(ended.body.status, "rolled_back");
      assert.match(ended.body.reasons.join(" "), /was rolled back at .*2 failed analyses in a row/);
    });

    test("the error-rate guard rolls back at once; a rollback by the fast path or an abort answers rollback", async () => {
      const r = await h.services.rollouts.start(ctx(), "erroring", "1.1.0", { plan: PLAN });
      await traffic("erroring", "1.0.0", 200);
      await traffic("erroring", "1.1.0", 200, { errors: 40 });
      const guard = await verdict("erroring");
      assert.equal(guard.body.verdict, "rollback", guard.body.reasons.join("; "));
      assert.match(guard.body.reasons[0], /error_rate breached an immediate guard/);

      await h.services.rollouts.fastCheck(r.id, ctl, "open");
      assert.equal((await verdict("erroring", "?candidate=1.1.0")).body.verdict, "rollback");

      // A newer rollout of another candidate: each candidate's own latest rollout is judged.
      await h.services.rollouts.start(ctx(), "erroring", "1.2.0", { plan: PLAN });
      await h.services.rollouts.abort(ctx(), "erroring", "wrong build");
      const aborted = await verdict("erroring", "?candidate=1.2.0");
      assert.equal(aborted.body.verdict, "rollback");
      assert.match(aborted.body.reasons.join(" "), /was aborted/);
      const older = await verdict("erroring", "?candidate=1.1.0");
      assert.equal(older.body.candidate, "1.1.0");
      assert.equal(older.body.status, "rolled_back");
    });

    test("a paused rollout holds, even on a passing step, with the operator's reason", async () => {
      await h.services.rollouts.start(ctx(), "paused", "1.1.0", { plan: PLAN });
      await traffic("paused", "1.0.0", 300, { successRate: 0.9 });
      await traffic("paused", "1.1.0", 200, { successRate: 0.92 });
      assert.equal((await verdict("paused")).body.verdict, "promote");
      await h.services.rollouts.pause(ctx(), "paused", "waiting for the support team");
      const held = await verdict("paused");
      assert.equal(held.body.verdict, "hold");
      assert.equal(held.body.status, "paused");
      assert.match(held.body.reasons[0], /is paused: waiting for the support team/);
    });
  });
}
