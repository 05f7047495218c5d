import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { calibrateThreshold } from "../../engines/routing/index.ts";
import { createLogger } from "../../lib/logger.ts";
import { createAdapters } from "../../providers/index.ts";
import { runCliAs } from "../../test-support/cli.ts";
import { logJudged, routeMember } from "../../test-support/judged-log.ts";
import { CARD, EASY, HARD, sim, TIERS, ticketSuite } from "../../test-support/router-fixtures.ts";
import { allStoreTargets, ctx, type Harness, openHarness, readJson } from "../../test-support/stores.ts";
import { calibrationCases, createEvalInvoker, createEvalWorker, type EvalWorker } from "../evals/index.ts";
import { compileRouter, RouteConfigSchema, routerInput } from "../gateway/index.ts";
import { VersionCreateSchema } from "../registry/registry.schemas.ts";
import { type JudgedRow, judgedRequestsPage } from "../request-log/index.ts";

for (const target of allStoreTargets()) {
  describe(`router evaluation, calibration and training on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let worker: EvalWorker;
    const runs: Record<string, string> = {};
    const suite = ticketSuite("tickets");
    const register = (
      version: string,
      provider: "simulator" | "router",
      parameters: Record<string, unknown>,
    ) =>
      h.services.registry.registerVersion(
        ctx(),
        "desk",
        VersionCreateSchema.parse({
          version,
          provider,
          providerModelId: `desk-${version}`,
          parameters,
          card: CARD,
        }),
      );
    const evaluate = async (version: string, s: Record<string, unknown> = suite) => {
      const started = await h.services.evals.start(ctx("runner"), "desk", version, s, { minGroupSize: 1 });
      for (let i = 0; i < 600; i++) {
        const r = await h.services.evals.get(started.id);
        if (r.status !== "running") return r;
        await new Promise((res) => setTimeout(res, 25));
      }
      throw new Error(`run ${started.id} did not finish`);
    };
    const cases = async (id: string) => (await readJson(await h.request(`/api/v1/evals/${id}/cases`))).cases;
    const post = (path: string, body: unknown) =>
      h.request(path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    let suiteHash: string;

    before(async () => {
      h = await openHarness(target);
      const invoker = createEvalInvoker({ db: h.db, adapters: createAdapters(), apiKeyFor: () => undefined });
      worker = createEvalWorker({
        db: h.db,
        clock: h.clock,
        evals: h.services.evals,
        invoker,
        logger: createLogger("silent"),
        intervalMs: 20,
      });
      worker.start();
      await h.services.registry.createModel(ctx(), {
        name: "desk",
        owner: "team",
        description: "",
        useCases: ["support"],
        riskTier: "low",
        tags: [],
      });
      await register("1.0.0", "simulator", sim({ success: 0.97, byGroup: { "difficulty:hard": 0.1 } }, 7));
      await register("2.0.0", "simulator", sim({ success: 0.95 }, 8));
      await h.services.routes.set(
        ctx(),
        "desk",
        RouteConfigSchema.parse({
          prices: {
            "1.0.0": { inputPer1kUsd: 0.1, outputPer1kUsd: 0.5 },
            "2.0.0": { inputPer1kUsd: 2, outputPer1kUsd: 10 },
          },
        }),
      );
      await register("9.0.0", "router", {
        tiers: TIERS,
        classifier: { kind: "complexity", thresholds: [0.3] },
      });
      for (const v of ["1.0.0", "2.0.0", "9.0.0"]) {
        const r = await evaluate(v);
        assert.equal(r.status, "completed", `${v}: ${r.error}`);
        runs[v] = r.id;
        suiteHash = r.suiteHash;
      }
    });
    after(async () => {
      await worker?.stop();
      await h?.cleanup();
    });

    test("a router run's routing section: per tier, overall, the tiers alone and the exact curve", async () => {
      const r = await readJson(await h.request(`/api/v1/evals/${runs["9.0.0"]}`));
      const routing = r.routing;
      assert.ok(routing, "a router's run has a routing section");
      const routed = await cases(runs["9.0.0"]!);
      assert.ok(routed.every((c: { route: { score?: number } }) => typeof c.route.score === "number"));
      for (const tier of ["cheap", "strong"]) {
        const mine = routed.filter((c: { route: { tier: string } }) => c.route.tier === tier);
        const f = routing.tiers.find((t: { tier: string }) => t.tier === tier);
        assert.equal(f.cases, mine.length);
        assert.equal(f.passed, mine.filter((c: { passed: boolean }) => c.passed).length);
        const cost = mine.reduce((s: number, c: { costUsd: number }) => s + c.costUsd, 0);
        assert.ok(Math.abs(f.costUsd - cost) < 1e-12);
      }
      // Every hard ticket (and only they) scores over 0.3: the strong tier answers them.
      assert.equal(routing.tiers[1].cases, 10);
      assert.equal(routing.overall.successRate, r.report.aggregate.successRate);
      assert.deepEqual(
        routing.baselines.map((b: { runId: string; version: string }) => [b.runId, b.version]),
        [
          [runs["1.0.0"], "desk@1.0.0"],
          [runs["2.0.0"], "desk@2.0.0"],
        ],
      );
      const [cheap, strong] = [await cases(runs["1.0.0"]!), await cases(runs["2.0.0"]!)];
      const rate = (cs: { passed: boolean }[]) => cs.filter((c) => c.passed).length / cs.length;
      assert.equal(routing.baselines[0].successRate, rate(cheap));
      assert.equal(routing.baselines[1].successRate, rate(strong));
      assert.ok(routing.baselines[1].costPerCaseUsd > 10 * routing.baselines[0].costPerCaseUsd);
      // The curve from each case's score and both tiers' results on it: all cheap, then all strong.
      const pts = routing.curve.points;
      assert.equal(pts[0].threshold, null);
      assert.equal(pts[0].successRate, rate(cheap));
      assert.equal(pts.at(-1).strongShare, 1);
      assert.ok(Math.abs(pts.at(-1).successRate - rate(strong)) < 1e-12);
      // At the router's threshold: the hard tickets' strong results, the easy ones' cheap results.
      const score = new Map(
        routed.map((c: { caseId: string; route: { score: number } }) => [c.caseId, c.route.score]),
      );
      const strongBy = new Map(strong.map((c: { caseId: string; passed: boolean }) => [c.caseId, c.passed]));
      const expected =
        cheap.filter((c: { caseId: string; passed: boolean }) =>
          (score.get(c.caseId) as number) >= 0.3 ? strongBy.get(c.caseId) : c.passed,
        ).length / cheap.length;
      assert.ok(Math.abs(routing.curve.current.successRate - expected) < 1e-12);
      assert.equal(routing.curve.current.strongShare, 0.25);
      // A plain version's run has none.
      assert.equal((await readJson(await h.request(`/api/v1/evals/${runs["1.0.0"]}`))).routing, undefined);
    });

    test("calibrate registers a new version with calibrateThreshold's threshold, audited, its card saying on what", async () => {
      const res = await post("/api/v1/models/desk/versions/9.0.0/calibrate", {
        suiteHash,
        target: 0.9,
        relativeToStrong: true,
        as: "9.1.0",
      });
      assert.equal(res.status, 201, JSON.stringify(await res.clone().json()));
      const out = await readJson(res);
      // The same computation by hand: each case's score, both tiers' results on it.
      const router = compileRouter((await h.services.registry.getVersion("desk", "9.0.0")).parameters);
      const scores = new Map(
        suite.cases.map((c) => [
          c.id,
          router.pick(routerInput({ model: "desk", messages: c.input.messages })).score!,
        ]),
      );
      const cal = calibrateThreshold(
        calibrationCases(scores, await cases(runs["1.0.0"]!), await cases(runs["2.0.0"]!)),
        { target: 0.9, relativeToStrong: true },
      );
      assert.ok(Number.isFinite(cal.threshold));
      const v = await h.services.registry.getVersion("desk", "9.1.0");
      assert.equal(v.status, "development");
      assert.deepEqual((v.parameters as { classifier: { thresholds: number[] } }).classifier.thresholds, [
        cal.threshold,
      ]);
      assert.equal(out.calibration.threshold, cal.threshold);
      assert.equal(out.calibration.point.successRate, cal.point.successRate);
      const card = await h.services.cards.get("desk", "9.1.0");
      assert.match(
        card.content.sections.evaluation_data!,
        /calibrated by modelgov from desk@9\.0\.0 on suite \*\*tickets\*\*/,
      );
      const audit = await h.db.query<{ action: string }>(
        "SELECT action FROM audit_events WHERE subject_id = $1 ORDER BY position",
        [v.id],
      );
      assert.deepEqual(
        audit.map((a) => a.action).filter((a) => a.startsWith("router.") || a === "version.registered"),
        ["version.registered", "router.calibrated"],
      );
    });

    test("calibrate refuses, naming the field: not a two-tier scored router, no tier runs, an unreachable target", async () => {
      await register("9.2.0", "router", {
        tiers: TIERS,
        classifier: {
          kind: "rules",
          rules: [{ when: { "features.turns": { $gt: 3 } }, tier: "strong" }],
          default: "cheap",
        },
      });
      const problem = async (res: Response, status: number, field: string, reason: RegExp) => {
        assert.equal(res.status, status);
        assert.equal(res.headers.get("content-type"), "application/problem+json");
        const body = await readJson(res);
        assert.equal(body.errors[0].field, field);
        assert.match(body.errors[0].reason, reason);
      };
      const body = { suiteHash, target: 0.9, as: "9.9.0" };
      await problem(
        await post("/api/v1/models/desk/versions/9.2.0/calibrate", body),
        400,
        "version",
        /rules classifier has no threshold/,
      );
      await problem(
        await post("/api/v1/models/desk/versions/1.0.0/calibrate", body),
        400,
        "version",
        /simulator version, not a router/,
      );
      // A suite only the router ran: the tiers have no results on it.
      const other = await evaluate("9.0.0", ticketSuite("other", 8));
      await problem(
        await post("/api/v1/models/desk/versions/9.0.0/calibrate", { ...body, suiteHash: other.suiteHash }),
        400,
        "suiteHash",
        /no completed run of suite other on tier cheap \(desk@1\.0\.0\)/,
      );
      // Tiers that never succeed: no threshold reaches any target.
      await register("3.0.0", "simulator", { ...sim({ success: 0 }, 9), poorAnswer: "refusal" });
      await register("9.3.0", "router", {
        tiers: [
          { name: "cheap", target: "desk@3.0.0" },
          { name: "strong", target: "desk@3.0.0" },
        ],
        classifier: { kind: "complexity", thresholds: [0.3] },
      });
      const none = await evaluate("3.0.0", ticketSuite("other", 8));
      await problem(
        await post("/api/v1/models/desk/versions/9.3.0/calibrate", { ...body, suiteHash: none.suiteHash }),
        400,
        "target",
        /no threshold reaches a success rate of 0\.9000; the best is 0\.0000/,
      );
      assert.equal(await h.services.registry.getVersion("desk", "9.9.0").catch(() => null), null);
    });

    test("train labels each case by the cheapest tier that succeeded: hard tickets go to the strong tier", async () => {
      const res = await post("/api/v1/models/desk/router/train", {
        suiteHash,
        as: "10.0.0",
        tiers: TIERS,
        // 40 cases: the default penalty (sized for hundreds) would keep every probability near the base rate.
        l2: 0.1,
      });
      assert.equal(res.status, 201, JSON.stringify(await res.clone().json()));
      const out = await readJson(res);
      assert.equal(out.training.cases, 40);
      assert.ok(out.training.labels.strong >= 5, "most hard tickets failed on the cheap tier");
      const v = await h.services.registry.getVersion("desk", "10.0.0");
      const params = v.parameters as { classifier: { kind: string; threshold?: number } };
      assert.equal(params.classifier.kind, "trained");
      assert.equal(params.classifier.threshold, undefined, "no target: the most probable tier");
      assert.equal(out.calibration, null);
      const router = compileRouter(v.parameters);
      const tier = (text: string) =>
        router.pick(routerInput({ model: "desk", messages: [{ role: "user", content: text }] })).tier.name;
      assert.equal(
        tier(
          "Prove that the discount rules cannot stack above 40% for order 999, and derive the worst case. Why?",
        ),
        "strong",
      );
      assert.equal(tier("Where is my order 999?"), "cheap");
      const card = await h.services.cards.get("desk", "10.0.0");
      assert.match(card.content.sections.training_data!, /labelled by the cheapest tier that succeeded/);
      // With a target: the threshold calibrated (on cross-fitted scores) is the version's.
      const calibrated = await readJson(
        await post("/api/v1/models/desk/router/train", {
          suiteHash,
          as: "10.1.0",
          from: "10.0.0",
          target: 0.9,
        }),
      );
      assert.equal(calibrated.calibration.required, 0.9);
      assert.ok(calibrated.calibration.point.successRate >= 0.9);
      const v101 = await h.services.registry.getVersion("desk", "10.1.0");
      assert.equal(
        (v101.parameters as { classifier: { threshold: number } }).classifier.threshold,
        calibrated.calibration.threshold,
      );
      // Without tiers or a router to start from: the field named.
      const bad = await post("/api/v1/models/desk/router/train", { suiteHash, as: "10.2.0" });
      assert.equal(bad.status, 400);
      assert.equal((await readJson(bad)).errors[0].field, "tiers");
    });
    test("CLI: eval status shows the routing section; router calibrate and train register versions", async () => {
      const cli = (...argv: string[]) => runCliAs(h.fetch, h.adminToken, argv);
      const status = await cli("eval", "status", runs["9.0.0"]!);
      assert.equal(status.code, 0, status.err);
      assert.match(status.out, /routing \(route, complexity, threshold 0\.3000\):/);
      assert.match(status.out, /tier strong\s+10 /);
      assert.match(status.out, /always-strong desk@2\.0\.0/);
      assert.match(status.out, /the router's threshold 0\.3000: strong 25\.0%/);
      const dir = mkdtempSync(path.join(os.tmpdir(), "modelgov-router-cli-"));
      try {
        const file = path.join(dir, "suite.yaml");
        writeFileSync(file, JSON.stringify(suite)); // JSON is YAML
        const cal = await cli(
          "router",
          "calibrate",
          "desk@9.0.0",
          "--suite",
          file,
          "--target",
          "0.95",
          "--as",
          "9.5.0",
        );
        assert.equal(cal.code, 0, cal.err);
        assert.match(cal.out, /registered desk@9\.5\.0 \(development\) from desk@9\.0\.0/);
        assert.match(cal.out, /target success 95\.0%: threshold /);
        const tr = await cli(
          "router",
          "train",
          "desk",
          "--suite",
          suiteHash,
          "--tiers",
          "cheap=desk@1.0.0,strong=desk@2.0.0",
          "--as",
          "11.0.0",
          "--l2",
          "0.1",
        );
        assert.equal(tr.code, 0, tr.err);
        assert.match(tr.out, /trained on 40 cases \(cheap \d+, strong \d+\)/);
        const refused = await cli(
          "router",
          "calibrate",
          "desk@9.2.0",
          "--suite",
          suiteHash,
          "--target",
          "0.9",
          "--as",
          "9.6.0",
        );
        assert.notEqual(refused.code, 0);
        assert.match(refused.err, /rules classifier has no threshold/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test("train from feedback: route, cascade and direct requests labelled (latest feedback wins), escalated texts routed strong; refusals", async () => {
      await register("12.0.0", "router", { strategy: "cascade", tiers: TIERS });
      const id = async (v: string) => (await h.services.registry.getVersion("desk", v)).id;
      const [cheap, strong, route, cascade] = [
        await id("1.0.0"),
        await id("2.0.0"),
        await id("9.0.0"),
        await id("12.0.0"),
      ];
      const paths = {
        "cascade-cheap": [routeMember("cheap", cheap, "served")],
        escalated: [routeMember("cheap", cheap, "escalated"), routeMember("strong", strong, "served")],
        "cheap-errored": [routeMember("cheap", null, "failed"), routeMember("strong", strong, "served")],
      };
      let n = 0;
      const log = (how: string, pool: string[], verdicts: (boolean | null)[], day = "10", body = true) => {
        const by = how.endsWith("cheap") ? cheap : strong;
        logJudged(h, {
          id: `req_fb_${n}`,
          at: new Date(Date.parse(`2026-02-${day}T10:00:00Z`) + n * 1000),
          model: "desk",
          routedVersionId: how.startsWith("route") ? route : how.startsWith("direct") ? by : cascade,
          versionId: by,
          routeReason: `alias:production; router 9.0.0 tier ${how.slice(6)} (complexity:0.5) -> desk pinned`,
          routePath: paths[how as keyof typeof paths] ?? null,
          text: body ? pool[n % pool.length]!.replace("{n}", String(500 + n)) : null,
          verdicts,
        });
        n++;
      };
      const times = (k: number, f: () => void) => Array.from({ length: k }, f);
      times(11, () => log("route-cheap", EASY, [true]));
      log("route-cheap", EASY, [false, true]); // superseded: cheap
      times(4, () => log("route-cheap", HARD, [false])); // the cheap tier was not enough
      times(2, () => log("route-cheap", HARD, [true, false])); // superseded: strong
      times(3, () => log("route-strong", HARD, [true])); // ambiguous
      times(2, () => log("route-strong", HARD, [false])); // no tier known to succeed
      log("route-cheap", EASY, [true, null]); // the latest carries a score only
      times(8, () => log("cascade-cheap", EASY, [true]));
      times(6, () => log("escalated", HARD, [true]));
      times(2, () => log("cheap-errored", HARD, [true]));
      times(4, () => log("direct-cheap", EASY, [true]));
      times(2, () => log("direct-strong", HARD, [true]));
      times(3, () => log("route-cheap", EASY, [true], "12", false));
      await h.services.requestLog.flush();
      await h.services.feedbackLog.flush();
      // Page by page, newest first, as the training reads them: each judged request once, its latest verdict.
      const read: JudgedRow[] = [];
      const filter = { models: ["desk"], from: new Date("2026-02-01"), to: new Date("2026-02-28") };
      for (let before = null; ; ) {
        const page = await judgedRequestsPage(h.db, filter, before, 10);
        read.push(...page);
        if (page.length < 10) break;
        before = { at: page.at(-1)!.at, id: page.at(-1)!.id };
      }
      assert.equal(new Set(read.map((r) => r.id)).size, 49);
      assert.ok(read.every((r, i) => i === 0 || r.at < read[i - 1]!.at));
      assert.deepEqual(
        ["req_fb_11", "req_fb_16", "req_fb_23"].map((id) => read.find((r) => r.id === id)?.success),
        [true, false, null],
      );
      const window = (since: string, until: string, extra: Record<string, unknown> = {}) => ({
        fromFeedback: { since: `2026-02-${since}T00:00:00Z`, until: `2026-02-${until}T00:00:00Z`, ...extra },
        tiers: TIERS,
        l2: 0.1,
      });
      const res = await post("/api/v1/models/desk/router/train", {
        ...window("01", "28", { minPerLabel: 5 }),
        as: "12.1.0",
      });
      assert.equal(res.status, 201, JSON.stringify(await res.clone().json()));
      const { training } = await readJson(res);
      assert.equal(training.source, "feedback");
      assert.deepEqual(training.labels, { cheap: 24, strong: 12 });
      assert.deepEqual(training.read, { route: 27, cascade: 16, ensemble: 0, direct: 6 });
      const skipped = training.skipped.map((x: { reason: string; requests: number }) => [
        x.reason,
        x.requests,
      ]);
      assert.deepEqual(Object.fromEntries(skipped), {
        "cheaper-unknown": 7,
        "last-failed": 2,
        "no-success": 1,
        "no-body": 3,
      });
      const v = await h.services.registry.getVersion("desk", "12.1.0");
      assert.equal(v.status, "development");
      const router = compileRouter(v.parameters);
      const tier = (t: string) =>
        router.pick(routerInput({ model: "desk", messages: [{ role: "user", content: t }] })).tier.name;
      assert.equal(tier(HARD[0]!.replace("{n}", "7")), "strong");
      assert.equal(tier(HARD[1]!.replace("{n}", "77")), "strong");
      assert.equal(tier(EASY[0]!.replace("{n}", "77")), "cheap");
      const note = (await h.services.cards.get("desk", "12.1.0")).content.sections.training_data!;
      assert.match(
        note,
        /from live feedback: 49 requests of desk judged by feedback between 2026-02-01T00:00:00\.000Z/,
      );
      assert.match(
        note,
        /labelled cheap 24, strong 12; skipped 1 whose latest .*; 7 answered with success by a later tier .*; 2 answered by the last tier .*; 3 labelled, but without a kept body/,
      );
      const [audit] = await h.db.query<{ after: { feedback: { labels: unknown } } }>(
        "SELECT after FROM audit_events WHERE subject_id = $1 AND action = 'router.trained'",
        [v.id],
      );
      assert.deepEqual(audit!.after.feedback.labels, { cheap: 24, strong: 12 });
      // Refusals, each naming its field; nothing registered.
      const problem = async (body: Record<string, unknown>, field: string, reason: RegExp) => {
        const r = await post("/api/v1/models/desk/router/train", { as: "12.9.0", ...body });
        assert.equal(r.status, 400);
        assert.equal(r.headers.get("content-type"), "application/problem+json");
        const p = await readJson(r);
        assert.equal(p.errors[0].field, field);
        assert.match(p.errors[0].reason, reason);
      };
      await problem(window("01", "28"), "fromFeedback", /too few labelled examples: strong 12, at least 20/);
      await problem(
        window("12", "13", { minPerLabel: 1 }),
        "fromFeedback",
        /none of the 3 labelled requests kept its body/,
      );
      await problem(window("20", "28"), "fromFeedback", /no request of desk between .* has feedback/);
      await problem({ ...window("01", "28"), target: 0.9 }, "target", /feedback gives one tier's/);
      await problem({ ...window("01", "28"), suiteHash }, "body.suiteHash", /one of the two/);
      assert.equal(await h.services.registry.getVersion("desk", "12.9.0").catch(() => null), null);
      // The CLI: the counts in words; --suite with --from-feedback refused.
      const cli = (...argv: string[]) => runCliAs(h.fetch, h.adminToken, argv);
      const tiers = ["--tiers", "cheap=desk@1.0.0,strong=desk@2.0.0"];
      const tr = await cli(
        ...["router", "train", "desk", "--from-feedback", "--since", "2026-02-01T00:00:00Z", ...tiers],
        ...["--until", "2026-02-28T00:00:00Z", "--min-per-label", "5", "--l2", "0.1", "--as", "12.2.0"],
      );
      assert.equal(tr.code, 0, tr.err);
      assert.match(tr.out, /trained on 36 requests labelled by feedback \(cheap 24, strong 12\)/);
      assert.match(tr.out, /skipped 2: answered by the last tier and failed/);
      const both = await cli(
        "router",
        "train",
        "desk",
        "--from-feedback",
        "--suite",
        suiteHash,
        ...tiers,
        "--as",
        "1.9.9",
      );
      assert.equal(both.code, 1);
      assert.match(
        both.err,
        /error: name a suite \(--suite\) or train from feedback \(--from-feedback\), one of the two/,
      );
    });
  });
}
