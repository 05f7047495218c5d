import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { runCliAs } from "../../test-support/cli.ts";
import { ctx, type Harness, openHarness, storeTargets } from "../../test-support/stores.ts";

describe("deps CLI against the API, in-process", () => {
  let h: Harness;
  before(async () => {
    h = await openHarness(storeTargets()[0]!);
    await h.services.registry.createModel(ctx(), {
      name: "cli-deps",
      owner: "o",
      description: "",
      useCases: [],
      riskTier: "low",
      tags: [],
    });
    const base = {
      tokenId: "tok_1",
      model: "cli-deps",
      versionId: "ver_1",
      version: "1.0.0",
      routeReason: "alias:production",
      endpoint: "chat.completions" as const,
      stream: false,
      errorClass: null,
      totalMs: 5,
      upstreamMs: 4,
      tokensIn: 1,
      tokensOut: 1,
      costUsd: 0,
      fallbackPath: [],
    };
    const now = h.clock.now().getTime();
    const rows = [
      { client: "checkout-agent", status: 200, ago: 60_000 },
      { client: "checkout-agent", status: 500, ago: 120_000 },
      { client: "triage-bot", status: 200, ago: 3 * 86_400_000 },
    ];
    for (const [i, r] of rows.entries())
      h.services.requestLog.record({
        ...base,
        id: `req_cli_${i}`,
        at: new Date(now - r.ago),
        client: r.client,
        status: r.status,
      });
    await h.services.requestLog.flush();
  });
  after(() => h.cleanup());
  const run = (...argv: string[]) => runCliAs(h.fetch, h.adminToken, argv);

  test("deps <model> shows clients per version with errors, and the totals", async () => {
    const r = await run("deps", "cli-deps");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /checkout-agent.*1\.0\.0.*2.*1.*50\.0%/);
    assert.ok(!r.out.includes("triage-bot"), "outside the default 24h window");
    assert.match(
      r.out,
      /cli-deps, last 24h .*: 2 request\(s\) from 1 client\(s\) over 1 version\(s\), 1 error\(s\)/,
    );
    const week = await run("deps", "cli-deps", "--window", "7d");
    assert.match(week.out, /triage-bot/);
    const j = JSON.parse((await run("--json", "deps", "cli-deps", "--window", "7d")).out);
    assert.equal(j.totals.clients, 2);
    assert.equal(j.dependents.length, 2);
  });

  test("a bad window or an unknown model fails with the problem; a missing model is a usage error", async () => {
    const bad = await run("deps", "cli-deps", "--window", "1y");
    assert.equal(bad.code, 1);
    assert.match(bad.err, /query\.window: a duration like 15m, 24h or 7d/);
    const missing = await run("deps", "no-such-model");
    assert.equal(missing.code, 1);
    assert.match(missing.err, /model 'no-such-model' not found \(HTTP 404\)/);
    assert.equal((await run("deps")).code, 2);
  });
});
