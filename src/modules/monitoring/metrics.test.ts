import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Registry } from "prom-client";
import { registerMonitorMetrics } from "./metrics.ts";

type States = Awaited<ReturnType<Parameters<typeof registerMonitorMetrics>[1]["ruleStates"]>>;

describe("monitor metrics", () => {
  test("state and streak come from the same read, in the same scrape", async () => {
    const registry = new Registry();
    let states = [{ model: "m", version: "1.0.0", rule: "decay", firing: false, streak: 2 }];
    let reads = 0;
    registerMonitorMetrics(registry, {
      ruleStates: async () => {
        reads++;
        return states as unknown as States;
      },
    });
    const l = '{model="m",version="1.0.0",rule="decay"}';
    let text = await registry.metrics();
    assert.match(text, new RegExp(`^modelgov_monitor_rule_state${l} 1$`, "m"));
    assert.match(text, new RegExp(`^modelgov_monitor_rule_streak${l} 2$`, "m"), "not a scrape behind");
    assert.equal(reads, 1, "one read per scrape");
    states = [{ model: "m", version: "1.0.0", rule: "decay", firing: true, streak: 3 }];
    text = await registry.metrics();
    assert.match(text, new RegExp(`^modelgov_monitor_rule_state${l} 2$`, "m"));
    assert.match(text, new RegExp(`^modelgov_monitor_rule_streak${l} 3$`, "m"));
    assert.equal(reads, 2);
  });

  test("a failed read keeps the last values instead of failing the scrape", async () => {
    const registry = new Registry();
    let fail = false;
    registerMonitorMetrics(registry, {
      ruleStates: async () => {
        if (fail) throw new Error("connection refused");
        return [
          { model: "m", version: "1.0.0", rule: "decay", firing: true, streak: 4 },
        ] as unknown as States;
      },
    });
    await registry.metrics();
    fail = true;
    assert.match(await registry.metrics(), /^modelgov_monitor_rule_streak\{[^}]*\} 4$/m);
  });
});
