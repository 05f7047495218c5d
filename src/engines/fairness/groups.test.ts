import assert from "node:assert/strict";
import { test } from "node:test";
import { fairnessReport } from "./disparity.ts";
import { groupRows, selects } from "./groups.ts";

// Hand-computed intersection case (12 rows): gender × age.
const gender = ["f", "f", "f", "f", "f", "f", "m", "m", "m", "m", "m", "m"];
const age = ["y", "y", "y", "o", "o", "o", "y", "y", "y", "o", "o", "o"];
const yTrue = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1];
const yPred = [1, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 1];

test("hand-computed: intersections of two attributes, sorted, with Fairlearn's definitions", () => {
  const r = fairnessReport(yTrue, yPred, { sensitiveFeatures: { gender, age } });
  assert.deepEqual(r.attributes, ["gender", "age"]);
  assert.deepEqual(
    r.groups.map((g) => [g.key, g.n, g.selectionRate, g.truePositiveRate, g.falsePositiveRate]),
    [
      ["gender=f, age=o", 3, 1 / 3, 1, 0],
      ["gender=f, age=y", 3, 2 / 3, 1 / 2, 1],
      ["gender=m, age=o", 3, 2 / 3, 1 / 2, 1],
      ["gender=m, age=y", 3, 2 / 3, 1, 0],
    ],
  );
  assert.deepEqual(r.groups[0]!.values, { gender: "f", age: "o" });
  assert.equal(r.demographicParityDifference, 1 / 3);
  assert.equal(r.demographicParityRatio, 0.5);
  assert.equal(r.equalOpportunityDifference, 0.5);
  assert.equal(r.equalizedOddsDifference, 1);
  assert.equal(r.equalizedOddsRatio, 0);
});

test("hand-computed: choosing one attribute of several (gender only)", () => {
  const r = fairnessReport(yTrue, yPred, { sensitiveFeatures: { gender, age }, attributes: ["gender"] });
  assert.deepEqual(
    r.groups.map((g) => [g.key, g.selectionRate, g.truePositiveRate, g.falsePositiveRate]),
    [
      ["f", 0.5, 2 / 3, 1 / 3],
      ["m", 2 / 3, 3 / 4, 1 / 2],
    ],
  );
  assert.equal(r.demographicParityRatio, 0.75);
});

test("rows form (feedback groups): attribute order follows options, missing values are unassigned", () => {
  const rows = [
    { lang: "en", region: "eu" },
    { lang: "fr", region: "eu" },
    { lang: "en" },
    { region: "us", lang: "en" },
    {},
  ];
  const g = groupRows(rows, 5, ["region", "lang"], "success");
  assert.deepEqual(
    g.groups.map((x) => [x.key, x.rows]),
    [
      ["region=eu, lang=en", [0]],
      ["region=eu, lang=fr", [1]],
      ["region=us, lang=en", [3]],
    ],
  );
  assert.deepEqual(g.unassigned, [2, 4]);
  // Default: every attribute seen, sorted.
  assert.deepEqual(groupRows(rows, 5, undefined, "success").attributes, ["lang", "region"]);
  assert.deepEqual(groupRows(rows, 5, ["lang"], "success").unassigned, [4]);
});

test("numbers and booleans are group values; null is unassigned", () => {
  const g = groupRows([1, 2, 1, null, true], 5, undefined, "yTrue");
  assert.deepEqual(
    g.groups.map((x) => [x.key, x.rows]),
    [
      ["1", [0, 2]],
      ["2", [1]],
      ["true", [4]],
    ],
  );
  assert.deepEqual(g.unassigned, [3]);
});

test("selectors: key, record (any intersection matching), list (any of)", () => {
  const grouping = groupRows({ gender, age }, 12, undefined, "yTrue");
  const pick = (sel: Parameters<typeof selects>[0]) =>
    grouping.groups.filter((g) => selects(sel, g, grouping.attributes, "privileged")).map((g) => g.key);
  assert.deepEqual(pick({ gender: "m" }), ["gender=m, age=o", "gender=m, age=y"]);
  assert.deepEqual(pick({ gender: "m", age: "y" }), ["gender=m, age=y"]);
  assert.deepEqual(pick(["gender=f, age=o", { age: "y" }]), [
    "gender=f, age=o",
    "gender=f, age=y",
    "gender=m, age=y",
  ]);
  assert.throws(
    () => pick({ region: "eu" }),
    (e) => e instanceof RangeError && /privileged names attribute "region"/.test(e.message),
  );
});

test("invalid sensitive features throw RangeError naming them", () => {
  assert.throws(
    () => groupRows({ gender: ["f"], age: ["y", "o"] }, 2, undefined, "yTrue"),
    (e) => e instanceof RangeError && /sensitiveFeatures.gender has 1 values but yTrue has 2/.test(e.message),
  );
  assert.throws(
    () => groupRows(["a", "b"], 2, ["gender"], "yTrue"),
    (e) => e instanceof RangeError && /options.attributes names "gender"/.test(e.message),
  );
  assert.throws(
    () => groupRows({}, 2, undefined, "yTrue"),
    (e) => e instanceof RangeError && /sensitiveFeatures has no attribute/.test(e.message),
  );
  assert.throws(
    () => groupRows([{ a: "x" }, "y"] as never, 2, undefined, "yTrue"),
    (e) => e instanceof RangeError && /sensitiveFeatures\[1\]/.test(e.message),
  );
  assert.throws(
    () => groupRows([["x"], "y"] as never, 2, undefined, "yTrue"),
    (e) => e instanceof RangeError && /sensitiveFeatures\[0\]/.test(e.message),
  );
});

test("a feature value that is not a string, number or boolean is a RangeError naming the row", () => {
  assert.throws(
    () => groupRows({ gender: ["f", { x: 1 }] } as never, 2, undefined, "yTrue"),
    (e) =>
      e instanceof RangeError &&
      e.message === "sensitiveFeatures gender of row 1 must be a string, number or boolean, got object",
  );
  assert.throws(
    () => groupRows(undefined as never, 2, undefined, "yTrue"),
    (e) => e instanceof RangeError && /options.sensitiveFeatures is required/.test(e.message),
  );
  assert.throws(
    () => groupRows([{}, {}], 2, undefined, "yTrue"),
    (e) => e instanceof RangeError && e.message === "sensitiveFeatures has no attribute",
  );
});
