import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ReleaseGate } from "../../engines/policy/gates.ts";
import { attributeSets, judgeSet, judgeWindow, type SetPolicy, shouldAlert } from "./bias-drift.compute.ts";

const gate = (name: string, fairness: ReleaseGate["fairness"]): ReleaseGate => ({
  name,
  match: {},
  fairness,
});
const set = (over: Partial<SetPolicy> = {}): SetPolicy => ({
  attribute: "language",
  attributes: ["language"],
  maxGapPoints: 5,
  minRatio: null,
  minGroupSize: 30,
  gates: ["fair"],
  ...over,
});

describe("bias drift: the pure rule", () => {
  test("attribute sets: every attribute present without a gate; the strictest threshold of the gates naming a set", () => {
    assert.deepEqual(
      attributeSets([], ["language", "region"]).map((s) => [s.attribute, s.maxGapPoints, s.minGroupSize]),
      [
        ["language", null, 30],
        ["region", null, 30],
      ],
    );
    const sets = attributeSets(
      [
        gate("loose", { maxGapPoints: 10, minGroupSize: 50 }),
        gate("strict", { maxGapPoints: 5, minRatio: 0.8, attributes: ["language"] }),
        gate("inter", { maxGapPoints: 8, attributes: ["region"], intersections: [["language", "region"]] }),
        gate("perf", undefined),
        gate("absent", { maxGapPoints: 1, attributes: ["age_band"] }),
      ],
      ["language", "region"],
    );
    assert.deepEqual(
      sets.map((s) => [s.attribute, s.maxGapPoints, s.minRatio, s.minGroupSize, s.gates]),
      [
        ["language", 5, 0.8, 30, ["loose", "strict"]],
        ["language × region", 8, null, 30, ["inter"]],
        ["region", 8, null, 30, ["loose", "inter"]],
      ],
      "age_band is absent from the data: nothing to record for it",
    );
  });

  test("a 20-point gap past a 5-point gate breaches, and says so with the numbers", () => {
    const p = judgeSet(
      "ver_a",
      [
        { versionId: "ver_a", groups: { language: "en" }, n: 100, successes: 90 },
        { versionId: "ver_a", groups: { language: "de" }, n: 100, successes: 70 },
        { versionId: "ver_a", groups: {}, n: 4, successes: 4 },
      ],
      set(),
    );
    assert.equal(p.n, 204);
    assert.equal(p.unassigned, 4);
    assert.ok(Math.abs((p.gapPoints ?? 0) - 20) < 1e-9);
    assert.ok(Math.abs((p.ratio ?? 0) - 70 / 90) < 1e-12);
    assert.equal(p.breached, true);
    assert.deepEqual(p.breaches, [
      "success rate: gap 20 points exceeds the maximum 5 (highest en 90%, lowest de 70%)",
    ]);
    assert.deepEqual(
      p.groups.map((g) => [g.key, g.n, g.successes, g.successRate]),
      [
        ["de", 100, 70, 0.7],
        ["en", 100, 90, 0.9],
      ],
    );
  });

  test("a ratio below minRatio breaches even with the gap within the maximum", () => {
    const p = judgeSet(
      "ver_a",
      [
        { versionId: "ver_a", groups: { language: "en" }, n: 100, successes: 20 },
        { versionId: "ver_a", groups: { language: "de" }, n: 100, successes: 16 },
      ],
      set({ maxGapPoints: 10, minRatio: 0.9 }),
    );
    assert.ok(Math.abs((p.gapPoints ?? 0) - 4) < 1e-9);
    assert.equal(p.breached, true);
    assert.equal(p.breaches.length, 1);
    assert.match(p.breaches[0]!, /ratio 0\.8 fails at least 0\.9/);
  });

  test("insufficient groups are listed, never dropped, and too few to compare never breach", () => {
    const p = judgeSet(
      "ver_a",
      [
        { versionId: "ver_a", groups: { language: "en" }, n: 40, successes: 40 },
        { versionId: "ver_a", groups: { language: "fr" }, n: 3, successes: 0 },
      ],
      set(),
    );
    assert.deepEqual(
      p.groups.map((g) => [g.key, g.n, g.status, g.successRate]),
      [
        ["en", 40, "ok", 1],
        ["fr", 3, "insufficient", null],
      ],
    );
    assert.equal(p.gapPoints, null);
    assert.equal(p.breached, false);
    assert.ok(p.reasons.some((r) => r === "left out: fr (3 rows, fewer than 30 rows (minGroupSize))"));
  });

  test("without a gate a point is recorded, not judged", () => {
    const [p, ...rest] = judgeWindow(
      [
        { versionId: "ver_a", groups: { language: "en" }, n: 50, successes: 50 },
        { versionId: "ver_a", groups: { language: "de" }, n: 50, successes: 10 },
      ],
      [],
    );
    assert.equal(rest.length, 0);
    assert.equal(p?.gapPoints, 80);
    assert.equal(p?.thresholdPoints, null);
    assert.equal(p?.breached, false);
    assert.match(p?.reasons[0] ?? "", /recorded, not judged/);
  });

  test("an intersection groups by both attributes", () => {
    const points = judgeWindow(
      [
        { versionId: "ver_b", groups: { language: "en", region: "eu" }, n: 30, successes: 27 },
        { versionId: "ver_b", groups: { language: "en", region: "us" }, n: 30, successes: 30 },
        { versionId: "ver_a", groups: { language: "de", region: "eu" }, n: 30, successes: 15 },
      ],
      [gate("inter", { maxGapPoints: 5, attributes: ["region"], intersections: [["language", "region"]] })],
    );
    assert.deepEqual(
      points.map((p) => [
        p.versionId,
        p.attribute,
        p.groups.map((g) => g.key),
        p.gapPoints === null ? null : Number(p.gapPoints.toFixed(9)),
        p.breached,
      ]),
      [
        ["ver_a", "language × region", ["language=de, region=eu"], null, false],
        ["ver_a", "region", ["eu"], null, false],
        ["ver_b", "language × region", ["language=en, region=eu", "language=en, region=us"], 10, true],
        ["ver_b", "region", ["eu", "us"], 10, true],
      ],
    );
  });

  test("the alert rule: a breach after none (or first), not a breach that continues", () => {
    assert.equal(shouldAlert({ breached: true }, null), true);
    assert.equal(shouldAlert({ breached: true }, { breached: false }), true);
    assert.equal(shouldAlert({ breached: true }, { breached: true }), false);
    assert.equal(shouldAlert({ breached: false }, null), false);
    assert.equal(shouldAlert({ breached: false }, { breached: true }), false);
  });
});
