import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BREACHING_STATUS, FIRING_STATUS, HISTORY } from "./monitor-fixture.ts";
import {
  featureTitle,
  recentQuery,
  ruleState,
  ruleTitle,
  unitOf,
  valueName,
  valuesOf,
  windowPoints,
} from "./monitor-series.ts";

const [decay, errors, drift] = FIRING_STATUS.rules;

describe("a monitor rule's windows as chart points", () => {
  test("the decay rule's windows, oldest first, each with the API's value, baseline, threshold and status", () => {
    const points = windowPoints(HISTORY.windows, "decay", "1.0.0");
    assert.equal(points.length, 9, "nine days judged after the 3-day baseline, of 27 windows of three rules");
    assert.deepEqual(
      points.map((p) => [new Date(p.t).toISOString().slice(0, 10), p.status]),
      [
        ["2026-03-05", "ok"],
        ["2026-03-06", "ok"],
        ["2026-03-07", "breach"],
        ["2026-03-08", "breach"],
        ["2026-03-09", "breach"],
        ["2026-03-10", "breach"],
        ["2026-03-11", "insufficient"],
        ["2026-03-12", "ok"],
        ["2026-03-13", "ok"],
      ],
    );
    const breach = points[2]!;
    assert.equal(breach.value, 0.5993265993265994);
    assert.equal(breach.baseline, 0.797979797979798);
    assert.equal(breach.threshold, 0.7181818181818183);
    assert.deepEqual(breach.band, [0.7181818181818183, 0.797979797979798], "a drop: the threshold is below");
    assert.equal(breach.window.n, 297);
  });

  test("a rise puts the threshold above the baseline; the band still runs low to high", () => {
    const points = windowPoints(HISTORY.windows, errors!.name, "1.0.0");
    const breaching = points.filter((p) => p.status === "breach");
    assert.equal(breaching.length, 2);
    assert.deepEqual(breaching[0]!.band, [0.01, 0.03]);
    assert.deepEqual(
      breaching.map((p) => p.value),
      [0.06666666666666667, 0.07],
    );
  });

  test("an insufficient window keeps the value the API gave, and no band where it gave no threshold", () => {
    const quiet = windowPoints(HISTORY.windows, "decay", "1.0.0").find((p) => p.status === "insufficient")!;
    assert.equal(quiet.value, 0.8);
    assert.equal(quiet.threshold, null);
    assert.equal(quiet.band, null);
    assert.match(quiet.window.reason, /60 observations, fewer than 100/);
  });

  test("a drift rule with no number in any window gives points without values: nothing to draw", () => {
    const points = windowPoints(HISTORY.windows, drift!.name, "1.0.0");
    assert.equal(points.length, 9);
    assert.ok(points.every((p) => p.value === null && p.band === null && p.threshold === 0.2));
    assert.deepEqual(
      valuesOf(points).filter((x) => x !== 0.2),
      [],
    );
  });

  test("windows of an earlier production version are left out; so are those of other rules", () => {
    const earlier = HISTORY.windows.map((w) =>
      w.windowStart < "2026-03-08" ? { ...w, version: "0.9.0" } : w,
    );
    const points = windowPoints(earlier, "decay", "1.0.0");
    assert.equal(points.length, 6);
    assert.ok(points.every((p) => p.window.version === "1.0.0" && p.window.rule === "decay"));
  });

  test("the value axis covers every value, baseline and threshold drawn, and nothing else", () => {
    const values = valuesOf(windowPoints(HISTORY.windows, "decay", "1.0.0"));
    assert.equal(Math.min(...values), 0.5985663082437276);
    assert.equal(Math.max(...values), 0.8);
  });
});

describe("a monitor rule in words", () => {
  test("the badge: breaching n of N, firing, ok, pending", () => {
    const [b1, b2] = BREACHING_STATUS.rules;
    assert.deepEqual(ruleState(b1!), { label: "breaching 2 of 3", tone: "warn" });
    assert.deepEqual(ruleState(b2!), { label: "breaching 1 of 2", tone: "warn" });
    assert.deepEqual(ruleState(decay!), { label: "firing", tone: "bad" });
    assert.equal(decay!.firedAt, "2026-03-10T00:00:00.000Z", "the page says since when");
    assert.deepEqual(ruleState(drift!), { label: "ok", tone: "ok" });
    assert.deepEqual(ruleState({ state: "pending", streak: 0, windows: 3 }), {
      label: "pending",
      tone: "neutral",
    });
  });

  test("titles and units: the metric, the drift rule's feature and statistic, the bias gap", () => {
    assert.equal(ruleTitle(decay!), "Success rate");
    assert.equal(ruleTitle(errors!), "Error rate");
    assert.equal(ruleTitle(drift!), "Input tokens");
    assert.equal(valueName(drift!), "PSI");
    assert.equal(valueName(decay!), "success rate");
    assert.equal(unitOf(decay!), "rate");
    assert.equal(unitOf(drift!), "statistic");
    assert.equal(unitOf({ kind: "metric", metric: "latencyP95" }), "ms");
    assert.equal(unitOf({ kind: "metric", metric: "costPerSuccess" }), "usd");
    assert.equal(unitOf({ kind: "metric", metric: "outputTokensPerCall" }), "tokens");
    assert.equal(
      ruleTitle({ kind: "metric", metric: "tokensPerCall", feature: null, name: "t" }),
      "Tokens per call",
    );
    assert.equal(unitOf({ kind: "bias", metric: null }), "points");
    assert.equal(ruleTitle({ kind: "bias", metric: null, feature: null, name: "bias-1" }), "Bias gap");
    assert.equal(featureTitle("group:age_band"), "Group age_band");
    assert.equal(featureTitle("custom_feature"), "custom_feature");
  });

  test("the history asked for: the rule's last windows, counted back from its last judged one", () => {
    assert.deepEqual(recentQuery(decay!, 60), {
      rule: "decay",
      from: "2026-01-09T00:00:00.000Z",
      limit: 60,
    });
    assert.deepEqual(
      recentQuery({ name: "hourly", lastWindowEnd: "2026-03-10T00:00:00.000Z", windowHours: 1 }, 24),
      {
        rule: "hourly",
        from: "2026-03-09T00:00:00.000Z",
        limit: 24,
      },
    );
    assert.equal(recentQuery({ ...decay!, lastWindowEnd: null }, 60), null, "pending: nothing judged yet");
  });
});
