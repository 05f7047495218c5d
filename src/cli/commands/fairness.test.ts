import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ApprovalPolicySchema } from "../../modules/approvals/approvals.schemas.ts";
import { runCliAs } from "../../test-support/cli.ts";
import { seedModel, sendTraffic } from "../../test-support/rollouts.ts";
import { ctx, type Harness, openHarness, storeTargets } from "../../test-support/stores.ts";

const HOUR = 3_600_000;
const lang = (en: number, de: number) => ({ groups: { "language=en": en, "language=de": de } });

describe("fairness drift CLI against the API, in-process", () => {
  let h: Harness;
  const cli = (...argv: string[]) => runCliAs(h.fetch, h.adminToken, argv);
  before(async () => {
    h = await openHarness(storeTargets()[0]!); // 09:00 UTC
    const ids = await seedModel(h, "cli-fair");
    await h.services.approvals.setPolicy(
      ctx(),
      ApprovalPolicySchema.parse({
        rules: [],
        gates: [{ name: "fair", match: { models: ["cli-fair"] }, fairness: { maxGapPoints: 5 } }],
      }),
    );
    await sendTraffic(h, ids, "cli-fair", "1.0.0", 200, lang(0.9, 0.89));
    await sendTraffic(h, ids, "cli-fair", "1.1.0", 60, lang(0.9, 0.9));
    h.clock.advance(HOUR);
    await sendTraffic(h, ids, "cli-fair", "1.0.0", 200, lang(0.9, 0.7));
    h.clock.advance(HOUR);
  });
  after(() => h.cleanup());

  test("compute backfills the windows and names the alert; drift prints the series as a table", async () => {
    const empty = await cli("fairness", "drift", "cli-fair");
    assert.equal(empty.code, 0, empty.err);
    assert.match(empty.out, /no bias-drift points yet \(windows of 1 h\)/);

    const c = await cli(
      "fairness",
      "drift",
      "compute",
      "cli-fair",
      "--from",
      "2026-03-01T09:00:00Z",
      "--to",
      "2026-03-01T11:00:00Z",
    );
    assert.equal(c.code, 0, c.err);
    assert.match(c.out, /2 window\(s\) computed, 3 new point\(s\), 1 alert\(s\)/);
    assert.match(c.out, /ALERT 2026-03-01 10:00 1\.0\.0 language: gap [\d.]+ points past the maximum 5/);

    const s = await cli("fairness", "drift", "cli-fair");
    assert.equal(s.code, 0, s.err);
    assert.match(s.out, /3 point\(s\), 1 alert\(s\)/);
    const rows = s.out.split("\n").filter((l) => /2026-03-01 \d\d:00/.test(l) && l.includes("│"));
    assert.deepEqual(
      rows.map((l) => /(\d\d:00) │ (\S+) .*│ (ALERT|breached|ok) /.exec(l)?.slice(1)),
      [
        ["09:00", "1.0.0", "ok"],
        ["09:00", "1.1.0", "ok"],
        ["10:00", "1.0.0", "ALERT"],
      ],
    );

    const one = JSON.parse((await cli("--json", "fairness", "drift", "cli-fair@1.1.0")).out);
    assert.deepEqual(
      one.points.map((p: { version: string; attribute: string }) => [p.version, p.attribute]),
      [["1.1.0", "language"]],
    );
    const none = JSON.parse(
      (await cli("--json", "fairness", "drift", "cli-fair", "--attribute", "region")).out,
    );
    assert.deepEqual(none.points, []);
  });

  test("usage errors exit 2; API errors exit 1 naming the field", async () => {
    assert.equal(
      (await cli("fairness", "drift", "compute", "cli-fair", "--from", "2026-03-01T09:00:00Z")).code,
      2,
    );
    assert.equal((await cli("fairness", "drift")).code, 2);
    const bad = await cli(
      "fairness",
      "drift",
      "compute",
      "cli-fair",
      "--from",
      "2026-03-01T09:15:00Z",
      "--to",
      "2026-03-01T10:00:00Z",
    );
    assert.equal(bad.code, 1);
    assert.match(bad.err, /body\.from: must be on a window boundary/);
    const unknown = await cli("fairness", "drift", "cli-fair@9.9.9");
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /version '9\.9\.9' of model 'cli-fair' not found/);
  });
});
