import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runCliAs } from "../../test-support/cli.ts";
import { seedModel, sendTraffic } from "../../test-support/rollouts.ts";
import { type Harness, openHarness, storeTargets } from "../../test-support/stores.ts";

const DAY = 86_400_000;

describe("monitor CLI against the API, in-process", () => {
  let h: Harness;
  let ids: Record<string, string>;
  let file: string;
  before(async () => {
    h = await openHarness(storeTargets()[0]!);
    ids = await seedModel(h, "cli-mon");
    const dir = await mkdtemp(path.join(os.tmpdir(), "mg-mon-"));
    file = path.join(dir, "monitor.yaml");
    writeFileSync(
      file,
      [
        "baseline: { kind: first-days, days: 1 }",
        "rules:",
        "  - when: success rate drops >10% from baseline for 2 days",
        "    name: decay",
      ].join("\n"),
    );
  });
  after(() => h.cleanup());
  const run = (...argv: string[]) => runCliAs(h.fetch, h.adminToken, argv);

  test("set, run, status and history: a decay shows as breaching, then firing", async () => {
    const set = await run("monitor", "set", "cli-mon", "-f", file);
    assert.equal(set.code, 0, set.err);
    assert.match(set.out, /cli-mon: monitor set, 1 rule\(s\)/);
    // Day 1 is the baseline (from 09:00); day 2's traffic falls before the first whole UTC day after it.
    for (const rate of [0.8, 0.8, 0.5, 0.5, 0.5, 0.5]) {
      await sendTraffic(h, ids, "cli-mon", "1.0.0", 200, { successRate: rate });
      h.clock.advance(DAY);
    }
    const ran = await run("monitor", "run", "cli-mon");
    assert.equal(ran.code, 0, ran.err);
    assert.match(ran.out, /cli-mon: 4 window\(s\) judged/);
    assert.match(
      ran.out,
      / fired: success rate drops >10% from baseline for 2 days: 2 consecutive breaching windows; successRate 0\.510 is below the threshold and significantly worse than the baseline \(baseline 0\.810, threshold 0\.729/,
    );
    const status = await run("monitor", "status", "cli-mon");
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, /cli-mon@1\.0\.0/);
    assert.match(
      status.out,
      /firing\s+decay: success rate drops >10% from baseline for 2 days \(streak 4\/2, fired 2026-03-05T00:00:00\.000Z/,
    );
    const json = JSON.parse((await run("monitor", "status", "cli-mon", "--json")).out);
    assert.equal(json.rules[0].state, "firing");
    const history = await run("monitor", "history", "cli-mon", "--rule", "decay");
    assert.equal(history.code, 0, history.err);
    const lines = history.out.trim().split("\n");
    assert.equal(lines.length, 4);
    assert.match(
      lines[0]!,
      /^✗ 2026-03-03 {2}decay {2}0\.510 \(baseline 0\.810, threshold 0\.729, n 200, p [\d.]+e-\d+\)/,
    );
    assert.match(lines[3]!, /^✗ 2026-03-06 {2}decay/);
  });

  test("an unknown model's monitor is a clear error", async () => {
    const r = await run("monitor", "status", "nope");
    assert.notEqual(r.code, 0);
    assert.match(r.err, /monitor for nope not found/);
  });
});
