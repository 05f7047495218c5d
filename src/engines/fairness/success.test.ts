import assert from "node:assert/strict";
import { test } from "node:test";
import { successByGroup } from "./success.ts";

const flags = (successes: number, n: number) => Array.from({ length: n }, (_, i) => i < successes);

// Hand-computed: en 8/10, fr 6/10, de 2/3.
const success = [...flags(8, 10), ...flags(6, 10), ...flags(2, 3)];
const language = [...Array(10).fill("en"), ...Array(10).fill("fr"), ...Array(3).fill("de")] as string[];

test("hand-computed: success rate per group and the largest gap in points", () => {
  const r = successByGroup(success, { sensitiveFeatures: { language } });
  assert.deepEqual(
    r.groups.map((g) => [g.key, g.n, g.successes, g.successRate, g.status]),
    [
      ["de", 3, 2, 2 / 3, "ok"],
      ["en", 10, 8, 0.8, "ok"],
      ["fr", 10, 6, 0.6, "ok"],
    ],
  );
  assert.deepEqual(r.overall, { n: 23, successes: 16, successRate: 16 / 23 });
  assert.ok(Math.abs(r.maxGapPoints! - 20) < 1e-9);
  assert.equal(r.disparity.max?.group, "en");
  assert.equal(r.disparity.min?.group, "fr");
  assert.equal(r.disparity.ratio, 0.6 / 0.8);
});

test("hand-computed: a group below minGroupSize is reported insufficient with its counts and excluded", () => {
  const r = successByGroup(success, { sensitiveFeatures: { language }, minGroupSize: 5 });
  const de = r.groups.find((g) => g.key === "de")!;
  assert.deepEqual(de, {
    key: "de",
    values: { language: "de" },
    n: 3,
    successes: 2,
    status: "insufficient",
    successRate: null,
  });
  assert.deepEqual(r.excluded, [{ key: "de", n: 3, reason: "fewer than 5 rows (minGroupSize)" }]);
  assert.deepEqual(r.disparity.compared, ["en", "fr"]);
  assert.ok(Math.abs(r.maxGapPoints! - 20) < 1e-9);
  // Exclusion changes the answer: with de at 0/3, counting it would make the gap 80 points.
  const worse = [...flags(8, 10), ...flags(6, 10), ...flags(0, 3)];
  assert.ok(
    Math.abs(successByGroup(worse, { sensitiveFeatures: { language }, minGroupSize: 5 }).maxGapPoints! - 20) <
      1e-9,
  );
  assert.ok(Math.abs(successByGroup(worse, { sensitiveFeatures: { language } }).maxGapPoints! - 80) < 1e-9);
});

test("feedback rows: groups as records, rows without the attribute unassigned but counted overall", () => {
  const r = successByGroup([true, false, true, true], {
    sensitiveFeatures: [{ region: "eu" }, { region: "eu" }, { region: "us" }, {}],
    attributes: ["region"],
  });
  assert.equal(r.unassigned, 1);
  assert.equal(r.overall.n, 4);
  assert.deepEqual(
    r.groups.map((g) => [g.key, g.successRate]),
    [
      ["eu", 0.5],
      ["us", 1],
    ],
  );
  assert.equal(r.maxGapPoints, 50);
});

test("one comparable group: no gap (null)", () => {
  const r = successByGroup([1, 0, 1], { sensitiveFeatures: ["a", "a", "b"], minGroupSize: 2 });
  assert.equal(r.maxGapPoints, null);
});

test("invalid outcomes throw RangeError naming success", () => {
  assert.throws(
    () => successByGroup([1, null as never], { sensitiveFeatures: ["a", "b"] }),
    (e) => e instanceof RangeError && /success\[1\]/.test(e.message),
  );
  assert.throws(
    () => successByGroup([], { sensitiveFeatures: [] }),
    (e) => e instanceof RangeError && /success is empty/.test(e.message),
  );
  assert.throws(
    () => successByGroup([1, 0], { sensitiveFeatures: ["a"] }),
    (e) => e instanceof RangeError && /sensitiveFeatures has 1 rows but success has 2/.test(e.message),
  );
});
