import assert from "node:assert/strict";
import { test } from "node:test";
import { bootstrapRates, bootstrapSuccess, quantileSorted } from "./bootstrap.ts";

const flags = (ones: number, n: number) => Array.from({ length: n }, (_, i) => (i < ones ? 1 : 0));
const repeat = <T>(xs: T[], k: number) => Array.from({ length: k }, () => xs).flat();

// Two groups: x succeeds 40/50, y 20/50 — a real gap of 40 points.
const success = [...flags(40, 50), ...flags(20, 50)];
const groups = [...Array(50).fill("x"), ...Array(50).fill("y")] as string[];

test("quantiles follow numpy's default (type 7, linear)", () => {
  assert.equal(quantileSorted([1, 2, 3, 4], 0.25), 1.75); // np.quantile([1,2,3,4], .25)
  assert.equal(quantileSorted([1, 2, 3, 4], 0.5), 2.5);
  assert.ok(Math.abs(quantileSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) - 9.1) < 1e-12);
  assert.equal(quantileSorted([3], 0.975), 3);
});

test("same seed, same intervals; another seed, other intervals", () => {
  const a = bootstrapSuccess(success, { sensitiveFeatures: groups, seed: 11, iterations: 500 });
  const b = bootstrapSuccess(success, { sensitiveFeatures: groups, seed: 11, iterations: 500 });
  const c = bootstrapSuccess(success, { sensitiveFeatures: groups, seed: 12, iterations: 500 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.difference, c.difference);
});

test("each interval contains its point estimate; estimates are the observed rates", () => {
  const r = bootstrapSuccess(success, { sensitiveFeatures: groups, seed: 3 });
  assert.deepEqual(
    r.groups.map((g) => [g.key, g.n, g.estimate]),
    [
      ["x", 50, 0.8],
      ["y", 50, 0.4],
    ],
  );
  for (const i of [...r.groups, r.difference, r.ratio]) {
    assert.ok(i.lower !== null && i.upper !== null && i.estimate !== null);
    assert.ok(i.lower <= i.estimate && i.estimate <= i.upper, `${i.lower} ≤ ${i.estimate} ≤ ${i.upper}`);
    assert.ok(i.lower < i.upper);
    assert.equal(i.replicates, 2000);
  }
  assert.ok(Math.abs(r.difference.estimate! - 0.4) < 1e-12);
  assert.equal(r.ratio.estimate, 0.5);
  // A 40-point gap on 50 rows a side is not noise: the interval stays clear of 0.
  assert.ok(r.difference.lower! > 0.15);
});

test("intervals narrow as n grows (four times the rows → about half the width)", () => {
  const width = (i: { lower: number | null; upper: number | null }) => i.upper! - i.lower!;
  const small = bootstrapSuccess(success, { sensitiveFeatures: groups, seed: 5 });
  const large = bootstrapSuccess(repeat(success, 4), { sensitiveFeatures: repeat(groups, 4), seed: 5 });
  for (const [s, l] of [
    [small.groups[0]!, large.groups[0]!],
    [small.groups[1]!, large.groups[1]!],
    [small.difference, large.difference],
  ] as const) {
    const ratio = width(l) / width(s);
    assert.ok(ratio > 0.35 && ratio < 0.65, `width ratio ${ratio}`);
  }
});

test("a proportion of 1/2 on 400 rows: the interval is close to the normal one, 0.5 ± 1.96·√(0.25/400)", () => {
  const r = bootstrapSuccess(flags(200, 400), { sensitiveFeatures: Array(400).fill("all"), seed: 9 });
  const half = 1.96 * Math.sqrt(0.25 / 400); // 0.049
  const g = r.groups[0]!;
  assert.ok(Math.abs(g.lower! - (0.5 - half)) < 0.005, `lower ${g.lower}`);
  assert.ok(Math.abs(g.upper! - (0.5 + half)) < 0.005, `upper ${g.upper}`);
  // One group: no difference to speak of.
  assert.deepEqual(r.difference, { estimate: null, lower: null, upper: null, replicates: 0 });
});

test("a group that always succeeds has the degenerate interval [1, 1]", () => {
  const r = bootstrapSuccess([1, 1, 1, 0, 1], {
    sensitiveFeatures: ["a", "a", "a", "b", "b"],
    iterations: 200,
  });
  assert.deepEqual({ lower: r.groups[0]!.lower, upper: r.groups[0]!.upper }, { lower: 1, upper: 1 });
});

test("prediction rates: TPR replicates without an actual positive are left out and counted", () => {
  // Group p: 1 positive in 10 rows, so about (0.9)^10 ≈ 35% of its resamples have no TPR.
  // Group q: 9 positives in 10 rows, TPR 6/9, defined in practically every resample.
  const yTrue = [1, ...Array(9).fill(0), ...flags(9, 10)];
  const yPred = [1, ...Array(9).fill(0), ...flags(6, 10)];
  const sf = [...Array(10).fill("p"), ...Array(10).fill("q")] as string[];
  const r = bootstrapRates(yTrue, yPred, { sensitiveFeatures: sf, metric: "truePositiveRate", seed: 1 });
  const p = r.groups[0]!;
  assert.equal(r.metric, "truePositiveRate");
  assert.equal(p.estimate, 1);
  assert.ok(p.replicates > 1100 && p.replicates < 1500, `replicates ${p.replicates}`);
  assert.equal(r.groups[1]!.replicates, 2000);
  assert.equal(r.difference.replicates, p.replicates);
  assert.ok(Math.abs(r.difference.estimate! - 1 / 3) < 1e-12);
});

test("selection rate is the default metric; small groups are excluded and named", () => {
  const r = bootstrapRates([1, 0, 1, 0, 1], [1, 1, 0, 0, 1], {
    sensitiveFeatures: ["a", "a", "b", "b", "c"],
    minGroupSize: 2,
    iterations: 100,
  });
  assert.equal(r.metric, "selectionRate");
  assert.deepEqual(
    r.groups.map((g) => [g.key, g.estimate]),
    [
      ["a", 1],
      ["b", 0],
    ],
  );
  assert.deepEqual(r.excluded, [{ key: "c", n: 1, reason: "fewer than 2 rows (minGroupSize)" }]);
});

test("invalid options throw RangeError naming them", () => {
  const sf = { sensitiveFeatures: ["a", "b"] };
  const bad = (o: object, re: RegExp) =>
    assert.throws(
      () => bootstrapRates([1, 0], [1, 0], { ...sf, ...o }),
      (e) => e instanceof RangeError && re.test(e.message),
    );
  bad({ iterations: 0 }, /options.iterations/);
  bad({ confidence: 1 }, /options.confidence/);
  bad({ seed: 0.5 }, /options.seed/);
  bad({ metric: "precision" }, /options.metric/);
  assert.throws(
    () => bootstrapSuccess([1, 3], sf),
    (e) => e instanceof RangeError && /success\[1\]/.test(e.message),
  );
});
