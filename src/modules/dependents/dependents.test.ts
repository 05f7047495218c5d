import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { runCliAs } from "../../test-support/cli.ts";
import { seedRouter } from "../../test-support/router-paths.ts";
import { allStoreTargets, ctx, type Harness, openHarness, readJson } from "../../test-support/stores.ts";
import type { RequestLogEntry } from "../request-log/index.ts";
import { parseWindow } from "./index.ts";

describe("parseWindow", () => {
  test("minutes, hours, days and weeks; anything else or beyond 366 days is null", () => {
    assert.equal(parseWindow("15m"), 15 * 60_000);
    assert.equal(parseWindow("24h"), 86_400_000);
    assert.equal(parseWindow("7d"), 7 * 86_400_000);
    assert.equal(parseWindow("2w"), 14 * 86_400_000);
    assert.equal(parseWindow("366d"), 366 * 86_400_000);
    for (const bad of ["367d", "0h", "7", "d", "1.5h", "7 days", "-1d", "1y", ""])
      assert.equal(parseWindow(bad), null, bad);
  });
});

const HOUR = 3_600_000;

for (const target of allStoreTargets()) {
  describe(`model dependents on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let n = 0;
    const log = (over: Partial<RequestLogEntry> & { agoMs: number }) => {
      const { agoMs, ...rest } = over;
      h.services.requestLog.record({
        id: `req_dep_${n++}`,
        at: new Date(h.clock.now().getTime() - agoMs),
        tokenId: "tok_a",
        client: "bot-a",
        model: "dep-model",
        versionId: "ver_100",
        version: "1.0.0",
        routeReason: "alias:production",
        endpoint: "chat.completions",
        stream: false,
        status: 200,
        errorClass: null,
        totalMs: 10,
        upstreamMs: 8,
        tokensIn: 1,
        tokensOut: 1,
        costUsd: 0,
        fallbackPath: [],
        ...rest,
      });
    };
    before(async () => {
      h = await openHarness(target);
      for (const name of ["dep-model", "quiet-model"])
        await h.services.registry.createModel(ctx(), {
          name,
          owner: "team-a",
          description: "",
          useCases: [],
          riskTier: "low",
          tags: [],
        });
      const v110 = { versionId: "ver_110", version: "1.1.0" };
      log({ agoMs: 1 * HOUR });
      log({ agoMs: 2 * HOUR, status: 502, errorClass: "upstream_5xx" });
      log({ agoMs: 0.5 * HOUR });
      log({ agoMs: 2 * HOUR, ...v110 });
      log({ agoMs: 3 * HOUR, ...v110, stream: true });
      log({ agoMs: 3 * 24 * HOUR, ...v110, client: "bot-b", tokenId: "tok_b" });
      log({
        agoMs: 10 * 60_000,
        client: "bot-c",
        versionId: null,
        version: null,
        status: 503,
        errorClass: "no_version",
      });
      // Served by a fallback: not an error for the caller.
      log({
        agoMs: 4 * HOUR,
        fallbackPath: [
          {
            versionId: "ver_100",
            version: "1.0.0",
            outcome: "failed",
            reason: "timeout",
            attempts: 1,
            gaveUp: "max_attempts",
            durationMs: 10,
          },
        ],
      });
      log({ agoMs: 10 * 24 * HOUR, client: "bot-old" });
      log({ agoMs: HOUR, model: "other-model", client: "bot-z" });
      await h.services.requestLog.flush();
    });
    after(() => h.cleanup());

    test("per client × version in the last 24 h (the default), busiest first, with totals", async () => {
      const res = await h.request("/api/v1/models/dep-model/dependents");
      assert.equal(res.status, 200);
      const d = await readJson(res);
      assert.equal(d.model, "dep-model");
      assert.equal(d.window, "24h");
      assert.equal(d.until, "2026-03-01T09:00:00.000Z");
      assert.equal(d.since, "2026-02-28T09:00:00.000Z");
      assert.deepEqual(
        d.dependents.map((x: Record<string, unknown>) => [
          x.client,
          x.version,
          x.requests,
          x.errors,
          x.lastSeen,
        ]),
        [
          ["bot-a", "1.0.0", 4, 1, "2026-03-01T08:30:00.000Z"],
          ["bot-a", "1.1.0", 2, 0, "2026-03-01T07:00:00.000Z"],
          ["bot-c", null, 1, 1, "2026-03-01T08:50:00.000Z"],
        ],
      );
      assert.equal(d.dependents[0].errorRate, 0.25);
      assert.equal(d.dependents[0].versionId, "ver_100");
      assert.deepEqual(d.totals, { requests: 7, errors: 2, clients: 2, versions: 2 });
    });

    test("a wider window reaches further back; a model nobody called has none", async () => {
      const d = await readJson(await h.request("/api/v1/models/dep-model/dependents?window=7d"));
      assert.deepEqual(d.totals, { requests: 8, errors: 2, clients: 3, versions: 2 });
      assert.ok(d.dependents.some((x: { client: string }) => x.client === "bot-b"));
      const q = await readJson(await h.request("/api/v1/models/dep-model/dependents?window=15m"));
      assert.deepEqual(q.totals, { requests: 1, errors: 1, clients: 1, versions: 0 });
      const quiet = await readJson(await h.request("/api/v1/models/quiet-model/dependents?window=2w"));
      assert.deepEqual(quiet.dependents, []);
      assert.deepEqual(quiet.totals, { requests: 0, errors: 0, clients: 0, versions: 0 });
    });

    test("problems: unknown model 404, bad window 400 naming the field, agent token 403, viewer may read", async () => {
      const missing = await h.request("/api/v1/models/nope/dependents");
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get("content-type"), "application/problem+json");
      for (const w of ["5y", "400d", "soon"]) {
        const bad = await h.request(`/api/v1/models/dep-model/dependents?window=${w}`);
        assert.equal(bad.status, 400, w);
        assert.equal((await readJson(bad)).errors[0].field, "query.window");
      }
      const agent = await h.request(
        "/api/v1/models/dep-model/dependents",
        {},
        await h.tokenFor("bot", ["agent"]),
      );
      assert.equal(agent.status, 403);
      const viewer = await h.request(
        "/api/v1/models/dep-model/dependents",
        {},
        await h.tokenFor("vic", ["viewer"]),
      );
      assert.equal(viewer.status, 200);
    });

    test("the service refuses a window the route would not pass either", async () => {
      await assert.rejects(h.services.dependents.dependents("dep-model", "1y"), /query\.window/);
    });

    // Last: it moves the clock. One seeded log of two router versions, read by the three views.
    test("success and cost per success by path: deps (the router's and its tiers'), monitor status, an experiment's arms; API and CLI", async () => {
      await seedRouter(h);
      const brief = (x: Record<string, unknown>) => [
        x.path,
        x.requests,
        x.judged,
        x.successes,
        x.costPerSuccessUsd,
      ];
      const close = (rows: unknown[][]) =>
        rows.map((row) => row.map((v) => (typeof v === "number" ? Math.round(v * 1e6) / 1e6 : v)));

      const d = await readJson(await h.request("/api/v1/models/assistant/dependents"));
      assert.deepEqual(
        d.paths.map((v: { version: string; strategy: string; paths: Record<string, unknown>[] }) => [
          v.version,
          v.strategy,
          close(v.paths.map(brief)),
        ]),
        [
          [
            "2.0.0",
            "cascade",
            [
              ["cheap", 2, 2, 2, 0.001],
              ["cheap>strong", 2, 1, 1, 0.011],
            ],
          ],
          [
            "1.0.0",
            "route",
            [
              ["cheap", 4, 4, 3, 0.001333],
              ["strong", 2, 2, 2, 0.01],
            ],
          ],
        ],
        "the superseding answer counts (2 of 2 on the cascade's cheap path); an unjudged request does not",
      );
      assert.deepEqual(d.paths[0].paths[1].tiers, [
        { name: "cheap", target: "tier-small" },
        { name: "strong", target: "tier-large@1.0.0" },
      ]);
      assert.equal(d.paths[1].paths[0].share, 4 / 6);
      const large = await readJson(await h.request("/api/v1/models/tier-large/dependents"));
      assert.deepEqual(
        large.calledBy.map(
          (c: { model: string; version: string; viaTiers: string[]; paths: { path: string }[] }) => [
            c.model,
            c.version,
            c.viaTiers,
            c.paths.map((p) => p.path),
          ],
        ),
        [
          ["assistant", "2.0.0", ["strong"], ["cheap>strong"]],
          ["assistant", "1.0.0", ["strong"], ["strong"]],
        ],
      );

      const status = await readJson(await h.request("/api/v1/models/assistant/monitor"));
      assert.equal(status.paths.version, "1.0.0", "the production version's paths");
      assert.deepEqual(close(status.paths.paths.map(brief)), close(d.paths[1].paths.map(brief)));
      const plain = await readJson(await h.request("/api/v1/models/tier-large/monitor"));
      assert.equal(plain.paths, null, "a version that is not a router has none");

      const results = await readJson(await h.request("/api/v1/models/assistant/experiment/results"));
      assert.deepEqual(
        results.paths.map((a: { arm: string; paths: Record<string, unknown>[] }) => [
          a.arm,
          a.paths.map((p) => p.path),
        ]),
        [
          ["control", ["cheap", "strong"]],
          ["cascade", ["cheap", "cheap>strong"]],
        ],
      );

      const cli = (...argv: string[]) => runCliAs(h.fetch, h.adminToken, argv);
      const deps = await cli("deps", "assistant");
      assert.equal(deps.code, 0, deps.err);
      assert.match(deps.out, /paths of cascade router assistant@2\.0\.0:/);
      assert.match(
        deps.out,
        /cheap>strong\s*│\s*cheap=tier-small > strong=tier-large@1\.0\.0\s*│\s*2\s*│\s*50\.0%\s*│\s*100\.0% \(1\/1\)\s*│\s*0\s*│\s*\$0\.011\s*│\s*\$0\.011/,
      );
      const called = await cli("deps", "tier-small");
      assert.match(called.out, /called by router assistant@1\.0\.0 \(route\) through tier cheap:/);
      const mon = await cli("monitor", "status", "assistant");
      assert.equal(mon.code, 0, mon.err);
      assert.match(mon.out, /success by path \(route router 1\.0\.0, /);
      assert.match(
        mon.out,
        /cheap\s*│\s*cheap=tier-small\s*│\s*4\s*│\s*66\.7%\s*│\s*75\.0% \(3\/4\)\s*│\s*0\s*│\s*\$0\.001\s*│\s*\$0\.001333/,
      );
      const exp = await cli("experiment", "results", "assistant");
      assert.equal(exp.code, 0, exp.err);
      assert.match(exp.out, /success by path, arm cascade \(cascade router 2\.0\.0\):/);
    });
  });
}
