import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../lib/logger.ts";
import { seedModel, sendTraffic } from "../../test-support/rollouts.ts";
import { allStoreTargets, ctx, type Harness, openHarness, readJson } from "../../test-support/stores.ts";
import { type Receiver, startReceiver } from "../../test-support/webhook-receiver.ts";
import { ApprovalPolicySchema } from "../approvals/approvals.schemas.ts";
import { createWebhookDispatcher } from "../webhooks/index.ts";
import { createBiasDriftJob } from "./job.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const JSON_HEADERS = { "content-type": "application/json" };
// Feedback carries one attribute; rates per group (sendTraffic cycles through the groups).
const lang = (en: number, de: number) => ({ groups: { "language=en": en, "language=de": de } });

for (const target of allStoreTargets()) {
  describe(`bias drift on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let r: Receiver;
    const ids: Record<string, string> = {};
    const job = () =>
      createBiasDriftJob({
        db: h.db,
        drift: h.services.biasDrift,
        logger: createLogger("silent"),
        holder: "a",
      });
    const alerts = async () =>
      (await h.services.audit.events({ action: "fairness.drift_alert", order: "asc", limit: 100 })).items;
    const series = async (query: string) => {
      const res = await h.request(`/api/v1/models/${query}`);
      assert.equal(res.status, 200);
      return readJson(res);
    };
    const compute = (model: string, body: unknown, token?: string) =>
      h.request(
        `/api/v1/models/${model}/bias-drift/compute`,
        { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(body) },
        token,
      );

    before(async () => {
      h = await openHarness(target); // the clock starts at 09:00 UTC, on a window boundary
      for (const m of ["drift", "nogate"]) Object.assign(ids, await seedModel(h, m));
      // Gates after the approvals: a gate adds evidence requirements, which would hold up the fixture's sign-offs.
      await h.services.approvals.setPolicy(
        ctx(),
        ApprovalPolicySchema.parse({
          rules: [],
          gates: [{ name: "fair-live", match: { models: ["drift"] }, fairness: { maxGapPoints: 5 } }],
        }),
      );
      r = await startReceiver(() => ({ status: 200 }));
      await h.services.webhooks.create(ctx(), { url: r.url, eventTypes: ["fairness.*"] });
    });
    after(async () => {
      await r.close();
      await h.cleanup();
    });

    test("a gap that widens past the gate raises one alert (audit event, outbox row, webhook); a continuing breach does not", async () => {
      const a = job();
      // Window 1 [09:00, 10:00): a small gap.
      await sendTraffic(h, ids, "drift", "1.0.0", 200, lang(0.9, 0.89));
      await sendTraffic(h, ids, "nogate", "1.0.0", 200, lang(0.9, 0.5));
      h.clock.advance(66 * MIN);
      await a.tick();
      const one = await series("drift/bias-drift");
      assert.equal(one.points.length, 1);
      assert.equal(one.points[0].windowStart, "2026-03-01T09:00:00.000Z");
      assert.equal(one.points[0].attribute, "language");
      assert.equal(one.points[0].thresholdPoints, 5);
      assert.ok(one.points[0].gapPoints < 5, `window 1 gap ${one.points[0].gapPoints}`);
      assert.equal(one.points[0].breached, false);
      assert.equal((await alerts()).length, 0);

      // Window 2 [10:00, 11:00): the gap widens to about 20 points.
      await sendTraffic(h, ids, "drift", "1.0.0", 200, lang(0.9, 0.7));
      await sendTraffic(h, ids, "nogate", "1.0.0", 200, lang(0.9, 0.5));
      h.clock.advance(HOUR);
      await a.tick();
      const raised = await alerts();
      assert.equal(raised.length, 1);
      const alert = raised[0]!;
      assert.equal(alert.subjectType, "model_version");
      assert.equal(alert.subjectId, ids["drift@1.0.0"]);
      assert.equal(alert.actor, "bias-drift");
      const after = alert.after as Record<string, unknown>;
      assert.equal(after.model, "drift");
      assert.equal(after.version, "1.0.0");
      assert.equal(after.attribute, "language");
      assert.equal(after.windowStart, "2026-03-01T10:00:00.000Z");
      assert.equal(after.thresholdPoints, 5);
      assert.ok((after.gapPoints as number) > 15, `window 2 gap ${after.gapPoints}`);
      assert.equal(after.previousGapPoints, one.points[0].gapPoints);
      assert.deepEqual(
        (after.groups as { key: string }[]).map((g) => g.key),
        ["de", "en"],
      );
      assert.match(
        alert.reason,
        /drift@1\.0\.0 language, .*: success rate: gap [\d.]+ points exceeds the maximum 5/,
      );
      const outbox = await h.db.query<{ subject_id: string }>(
        "SELECT subject_id FROM event_outbox WHERE action = 'fairness.drift_alert'",
      );
      assert.deepEqual(
        outbox.map((o) => o.subject_id),
        [ids["drift@1.0.0"]],
      );

      // Window 3 [11:00, 12:00): still past the gate: recorded as breached, no second alert.
      await sendTraffic(h, ids, "drift", "1.0.0", 200, lang(0.9, 0.72));
      h.clock.advance(HOUR);
      await a.tick();
      assert.equal((await alerts()).length, 1);
      const three = await series("drift/bias-drift?version=1.0.0&attribute=language");
      assert.deepEqual(
        three.points.map((p: { windowStart: string; breached: boolean; alerted: boolean }) => [
          p.windowStart.slice(11, 16),
          p.breached,
          p.alerted,
        ]),
        [
          ["09:00", false, false],
          ["10:00", true, true],
          ["11:00", true, false],
        ],
      );
      assert.deepEqual(
        three.alerts.map((p: { windowStart: string }) => p.windowStart),
        ["2026-03-01T10:00:00.000Z"],
      );

      // Without a fairness gate: the series is kept, nothing is judged, nothing alerts.
      const free = await series("nogate/bias-drift");
      assert.equal(free.points.length, 2);
      assert.ok(free.points.every((p: { gapPoints: number }) => p.gapPoints > 30));
      assert.ok(free.points.every((p: { thresholdPoints: null }) => p.thresholdPoints === null));
      assert.ok(free.points.every((p: { breached: boolean }) => !p.breached));
      assert.equal(free.alerts.length, 0);

      // The alert reaches a subscriber as a signed webhook.
      const d = createWebhookDispatcher({ db: h.db, clock: h.clock, logger: createLogger("silent") });
      await d.runOnce();
      assert.deepEqual(
        r.accepted.map((x) => x.event),
        ["fairness.drift_alert"],
      );
      const body = JSON.parse(r.accepted[0]!.body);
      assert.equal(body.subject.id, ids["drift@1.0.0"]);
      assert.equal(body.after.attribute, "language");
      await a.stop();
    });

    test("re-running a window adds nothing: not the job, not a backfill; another replica waits for the lease", async () => {
      const count = async () =>
        Number((await h.db.query<{ n: number }>("SELECT count(*)::int AS n FROM bias_drift_points"))[0]?.n);
      const before = await count();
      const again = await compute("drift", { from: "2026-03-01T09:00:00Z", to: "2026-03-01T12:00:00Z" });
      assert.equal(again.status, 200);
      const out = await readJson(again);
      assert.equal(out.windows.length, 3);
      assert.deepEqual(out.points, []);
      assert.equal(await count(), before);
      assert.equal((await alerts()).length, 1);

      // Window 4 [12:00, 13:00): a replica without the lease computes nothing; the holder does.
      const a = job();
      const b = createBiasDriftJob({
        db: h.db,
        drift: h.services.biasDrift,
        logger: createLogger("silent"),
        holder: "b",
      });
      await a.tick(); // a holds the lease (nothing due yet)
      await sendTraffic(h, ids, "drift", "1.1.0", 100, lang(0.9, 0.9));
      h.clock.advance(HOUR);
      await b.tick();
      assert.equal(await count(), before);
      await a.tick();
      assert.equal(await count(), before + 1);
      await a.tick();
      assert.equal(await count(), before + 1, "the window is done: a second tick adds nothing");
      await a.stop();
      await b.stop();
    });

    test("a backfill reports insufficient groups and alerts on a first point that breaches", async () => {
      // Window 5 [13:00, 14:00), computed on demand: fr is too small to compare.
      const start = h.clock.now();
      await sendTraffic(h, ids, "drift", "1.2.0", 200, lang(0.95, 0.6));
      await sendTraffic(h, ids, "drift", "1.2.0", 4, { groups: { "language=fr": 0.5 } });
      h.clock.advance(HOUR);
      const from = new Date(Math.floor(start.getTime() / HOUR) * HOUR).toISOString();
      const to = new Date(Math.floor(start.getTime() / HOUR) * HOUR + HOUR).toISOString();
      const res = await compute("drift", { from, to });
      assert.equal(res.status, 200);
      const out = await readJson(res);
      assert.equal(out.points.length, 1);
      const p = out.points[0];
      assert.equal(p.version, "1.2.0");
      assert.equal(p.n, 204);
      assert.deepEqual(
        p.groups.map((g: { key: string; n: number; status: string; successRate: number | null }) => [
          g.key,
          g.n,
          g.status,
          g.successRate === null,
        ]),
        [
          ["de", 100, "ok", false],
          ["en", 100, "ok", false],
          ["fr", 4, "insufficient", true],
        ],
      );
      assert.ok(p.reasons.includes("left out: fr (4 rows, fewer than 30 rows (minGroupSize))"));
      assert.equal(p.alerted, true, "the first point of 1.2.0, and it breaches");
      assert.equal(p.previousGapPoints, null);
      assert.deepEqual(
        out.alerts.map((x: { id: string }) => x.id),
        [p.id],
      );
      const raised = await alerts();
      assert.equal(raised.length, 2);
      assert.equal(raised[1]?.actor, "admin", "a backfill is recorded under the caller");
      assert.equal(raised[1]?.subjectId, ids["drift@1.2.0"]);
    });

    test("bad input is a problem naming the field; reading needs registry:read, computing rollouts:write", async () => {
      const field = async (res: Response) => (await readJson(res)).errors[0].field;
      const notAligned = await compute("drift", { from: "2026-03-01T09:30:00Z", to: "2026-03-01T10:00:00Z" });
      assert.equal(notAligned.status, 400);
      const problem = await readJson(notAligned);
      assert.equal(problem.errors[0].field, "body.from");
      assert.match(
        problem.detail,
        /on a window boundary \(windows are 1 h, aligned to UTC\), e\.g\. 2026-03-01T09:00:00\.000Z/,
      );
      const future = await compute("drift", { from: "2026-03-01T09:00:00Z", to: "2026-03-09T10:00:00Z" });
      assert.equal(await field(future), "body.to");
      const backwards = await compute("drift", { from: "2026-03-01T10:00:00Z", to: "2026-03-01T09:00:00Z" });
      assert.equal(await field(backwards), "body.to");
      const notTime = await compute("drift", { from: "yesterday", to: "2026-03-01T09:00:00Z" });
      assert.equal(await field(notTime), "body.from");
      assert.equal(
        (await compute("missing", { from: "2026-03-01T09:00:00Z", to: "2026-03-01T10:00:00Z" })).status,
        404,
      );

      const badQuery = await h.request("/api/v1/models/drift/bias-drift?from=soon");
      assert.equal(badQuery.status, 400);
      assert.equal(badQuery.headers.get("content-type"), "application/problem+json");
      assert.equal(await field(badQuery), "query.from");
      assert.equal((await h.request("/api/v1/models/drift/bias-drift?version=9.9.9")).status, 404);
      const inverted = await h.request(
        "/api/v1/models/drift/bias-drift?from=2026-03-01T12:00:00Z&to=2026-03-01T09:00:00Z",
      );
      assert.equal(await field(inverted), "query.to");

      const viewer = await h.tokenFor("vic", ["viewer"]);
      assert.equal((await h.request("/api/v1/models/drift/bias-drift", {}, viewer)).status, 200);
      const refused = await compute(
        "drift",
        { from: "2026-03-01T09:00:00Z", to: "2026-03-01T10:00:00Z" },
        viewer,
      );
      assert.equal(refused.status, 403);
      const engineer = await h.tokenFor("erin", ["engineering"]);
      assert.equal(
        (await compute("drift", { from: "2026-03-01T09:00:00Z", to: "2026-03-01T10:00:00Z" }, engineer))
          .status,
        200,
      );
    });
  });
}
