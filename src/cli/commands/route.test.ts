import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runCliAs } from "../../test-support/cli.ts";
import { seedModel } from "../../test-support/rollouts.ts";
import { type Harness, openHarness, storeTargets } from "../../test-support/stores.ts";
import { describeRoute } from "./route.ts";

describe("route CLI against the API, in-process", () => {
  let h: Harness;
  let dir: string;
  const cli = (...argv: string[]) => runCliAs(h.fetch, h.adminToken, argv);
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  before(async () => {
    h = await openHarness(storeTargets()[0]!);
    dir = mkdtempSync(join(tmpdir(), "route-cli-"));
    await seedModel(h, "desk");
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await h.cleanup();
  });

  test("get: a model without a route goes to production", async () => {
    const got = await cli("route", "get", "desk");
    assert.equal(got.code, 0, got.err);
    assert.equal(
      got.out,
      [
        "desk: a request naming desk goes to the production alias",
        "  split     none",
        "  fallback  none",
        "  flag      none",
        "  pinning   not allowed (aliases only)",
        "  shadow    none",
      ].join("\n"),
    );
  });

  test("set -f file.yaml: the whole route, summarised; get --json reads it back; the audit has it", async () => {
    const yaml = file(
      "route.yaml",
      [
        "split:",
        "  - { version: 1.0.0, weight: 90 }",
        "  - { version: 1.1.0, weight: 10 }",
        "fallback: [1.2.0, 1.0.0]",
        "allowPinning: true",
        "timeouts: { totalMs: 30000 }",
        "prices:",
        '  "1.1.0": { inputPer1kUsd: 0.001, outputPer1kUsd: 0.002 }',
      ].join("\n"),
    );
    const set = await cli("route", "set", "desk", "-f", yaml);
    assert.equal(set.code, 0, set.err);
    assert.equal(
      set.out,
      [
        "desk: a request naming desk goes to the split",
        "  split     1.0.0 90% · 1.1.0 10%",
        "  sticky    per subject: x-modelgov-subject, else the OpenAI user field",
        "  fallback  1.2.0 → 1.0.0",
        "  flag      none",
        "  pinning   allowed (model@1.2.3)",
        "  shadow    none",
        "  timeouts  totalMs 30000 (ms)",
        "  prices    1.1.0 $0.001/$0.002 per 1k in/out",
      ].join("\n"),
    );
    const json = JSON.parse((await cli("--json", "route", "get", "desk")).out);
    assert.deepEqual(json.split, [
      { version: "1.0.0", weight: 90 },
      { version: "1.1.0", weight: 10 },
    ]);
    assert.deepEqual(json.fallback, ["1.2.0", "1.0.0"]);
    assert.deepEqual(json, JSON.parse(JSON.stringify(await h.services.routes.get("desk"))));
    const audit = await h.services.audit.events({ action: "route.updated", order: "asc", limit: 5 });
    assert.equal(audit.items.length, 1);
    assert.equal(audit.items[0]!.actor, "admin");

    // JSON too, and a setting left out takes its default: the split is cleared.
    const cleared = await cli("route", "set", "desk", "-f", file("r.json", '{"fallback":["1.2.0"]}'));
    assert.equal(cleared.code, 0, cleared.err);
    assert.match(
      cleared.out,
      /^desk: a request naming desk goes to the production alias\n {2}split {5}none\n/,
    );
  });

  test("bad input: the API's problem names the field (exit 1); a missing -f is a usage error (exit 2)", async () => {
    const bad = await cli("route", "set", "desk", "-f", file("bad.yaml", "fallback: [9.9.9]\n"));
    assert.equal(bad.code, 1);
    assert.match(bad.err, /body\.fallback\.0: version 9\.9\.9 of 'desk' is not registered/);
    const unknown = await cli("route", "set", "desk", "-f", file("typo.yaml", "splits: []\n"));
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /splits/);
    const missing = await cli("route", "get", "nobody");
    assert.equal(missing.code, 1);
    assert.match(missing.err, /model 'nobody' not found/);
    assert.equal((await cli("route", "set", "desk")).code, 2);
    assert.deepEqual(
      (await h.services.routes.get("desk")).fallback,
      ["1.2.0"],
      "nothing changed by the refusals",
    );
  });

  test("the summary says when the route's flag decides, and shows a shadow and a split's scope", () => {
    const text = describeRoute("chat", {
      split: [
        { version: "1.0.0", weight: 50 },
        { version: "1.1.0", weight: 50 },
      ],
      splitScope: "exp_1",
      shadow: { version: "1.2.0", share: 5 },
      fallback: [],
      flag: "chat.version",
      allowPinning: false,
      prices: {},
    });
    assert.match(
      text,
      /^chat: a request naming chat goes to the flag chat\.version picks the version per request \(else the split\)$/m,
    );
    assert.match(text, /^ {2}split {5}1\.0\.0 50% · 1\.1\.0 50% \(scope exp_1\)$/m);
    assert.match(text, /^ {2}flag {6}chat\.version$/m);
    assert.match(text, /^ {2}shadow {4}1\.2\.0, 5% of plain calls mirrored$/m);
  });
});
