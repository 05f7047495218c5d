import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli } from "../cli/main.ts";
import type { RoutingDemoResult } from "./routing.ts";

// One run through the CLI (--json) of the demo as shipped (600 tickets: fewer make the
// router's calibration too noisy for the bar to hold every time).
test("modelgov demo routing --json: a calibrated router and a cascade each keep 95% of strong-only success at no more than 60% of its cost", async () => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(["demo", "routing", "--json"], {
    io: { out: (s) => out.push(s), err: (s) => err.push(s) },
    env: {},
  });
  const r = JSON.parse(out.join("\n")) as Omit<RoutingDemoResult, "tookMs">;
  assert.equal(code, 0, `${r.failures.join("; ")} ${err.join("\n")}`);
  assert.deepEqual(Object.keys(r).sort(), [
    "cascade",
    "cases",
    "cheapOnly",
    "failures",
    "ok",
    "router",
    "strongOnly",
    "threshold",
  ]);
  assert.equal(r.ok, true);
  assert.deepEqual(r.cases.calibration + r.cases.test, 600);
  for (const arm of [r.router, r.cascade]) {
    assert.ok(arm.successRate >= 0.95 * r.strongOnly.successRate, JSON.stringify(arm));
    assert.ok(arm.costPer1k <= 0.6 * r.strongOnly.costPer1k, JSON.stringify(arm));
  }
  // The mix is a real one: the cheap model alone is clearly worse, the router sends some to each.
  assert.ok(r.cheapOnly.successRate < 0.9 * r.strongOnly.successRate, JSON.stringify(r.cheapOnly));
  assert.ok(r.router.strongShare > 0.1 && r.router.strongShare < 0.6, JSON.stringify(r.router));
  assert.ok(r.cascade.escalatedShare > 0.1 && r.cascade.escalatedShare < 0.6, JSON.stringify(r.cascade));
  assert.ok(r.threshold > 0 && r.threshold < 1);
});
