// Reference values: scipy 1.17 (stats.binom.sf, stats.beta.ppf) for rateAboveLimit; the
// sequential tests are pinned to their likelihood ratios by hand and to the stats engine's
// Newcombe interval and always-valid critical value (themselves pinned in src/engines/stats).
import assert from "node:assert/strict";
import { test } from "node:test";
import { near } from "../../test-support/approx.ts";
import { mixtureLR } from "../../test-support/sprt-by-hand.ts";
import { successByGroup } from "../fairness/index.ts";
import { newcombeInterval, oneSidedCriticalZ } from "../stats/index.ts";
import { judgeErrorRate, judgeGroupGap } from "./guards.ts";
import { rateAboveLimit } from "./rate-bound.ts";
import type { GroupCounts, VersionWindow } from "./types.ts";

const ctx = { minSample: 200, alpha: 0.05 };
const guard = { kind: "error_rate", max: 0.01 } as const;

function win(p: Partial<VersionWindow> = {}): VersionWindow {
  return { requests: 1000, errors: 0, feedbackCount: 0, successes: 0, latencyP95Ms: 300, costUsd: 1, ...p };
}

test("rateAboveLimit: 25 errors in 1000 against 1% is an exact breach", () => {
  const r = rateAboveLimit(25, 1000, 0.01, 0.05);
  near(r.pAbove, 4.202920844836726e-5, 1e-8, "pAbove");
  near(r.lowerBound, 0.017440155567020093, 1e-8, "lower bound");
  assert.equal(r.exceeds, true);
  const none = rateAboveLimit(0, 300, 0.01, 0.05);
  assert.deepEqual([none.pAbove, none.lowerBound, none.exceeds], [1, 0, false]);
  assert.throws(() => rateAboveLimit(5, 4, 0.01, 0.05), /x must be an integer in \[0, n\]/);
});

test("error rate 2.5% of 1000 against the 1% guard and a 0.3% baseline fails, and rolls back at once", () => {
  const r = judgeErrorRate(guard, win({ errors: 3 }), win({ errors: 25 }), ctx);
  assert.equal(r.status, "fail");
  assert.equal(r.immediateRollback, true);
  assert.equal(r.numbers.baseline, 0.003);
  // Wald's SPRT mixture against 1%: ln LR = ln sum w (r^25 ((1 - 0.01 r)/0.99)^975), by hand.
  const byHand = mixtureLR(25, 1000, 0.01);
  near(r.numbers.logLikelihoodRatioAboveMax, Math.log(byHand), 1e-9, "ln LR above the limit");
  assert.match(
    r.reason,
    /error rate 2\.50% \(25 of 1,000\) vs 0\.30% baseline: above the 1\.00% guard and above the baseline/,
  );
});

test("error rate 2% of 200: above the guard, not yet shown, is inconclusive; at or below it passes", () => {
  const r = judgeErrorRate(guard, win(), win({ requests: 200, errors: 4 }), ctx);
  assert.equal(r.status, "inconclusive");
  assert.match(r.reason, /above the 1\.00% guard, not yet shown/);
  assert.equal(judgeErrorRate(guard, win(), win({ errors: 10 }), ctx).status, "pass");
});

test("a candidate no worse than a baseline that also breaks the limit is not failed", () => {
  const r = judgeErrorRate(guard, win({ errors: 30 }), win({ errors: 30 }), ctx);
  assert.notEqual(r.status, "fail");
  assert.equal(r.status, "pass");
  assert.match(r.reason, /not above the baseline's/);
});

test("error rate with too few candidate requests is insufficient_data; immediateRollback can be turned off", () => {
  assert.equal(judgeErrorRate(guard, win(), win({ requests: 0 }), ctx).status, "insufficient_data");
  const r = judgeErrorRate(
    { ...guard, minSample: 20, immediateRollback: false },
    win(),
    win({ requests: 20, errors: 20 }),
    ctx,
  );
  assert.equal(r.status, "fail");
  assert.equal(r.immediateRollback, false);
});

const gapMetric = { kind: "group_success_gap", maxGapPoints: 5, minGroupSize: 30 } as const;
const groups = (region: Record<string, GroupCounts>) => ({ region });

test("a degraded group: eu 80% vs us 60% is a 20-point gap, shown above 5 and above the baseline's: fail", () => {
  const cand = win({
    groups: groups({
      eu: { successes: 1800, n: 2250 },
      us: { successes: 150, n: 250 },
      apac: { successes: 20, n: 25 },
    }),
  });
  const base = win({ groups: groups({ eu: { successes: 1800, n: 2250 }, us: { successes: 200, n: 250 } }) });
  const r = judgeGroupGap(gapMetric, base, cand, ctx);
  assert.equal(r.status, "fail");
  assert.equal(r.immediateRollback, false);
  const [region] = r.numbers.attributes as Record<string, unknown>[];
  near(region!.gapPoints, 20, 1e-12, "gap");
  assert.equal(region!.baselineGapPoints, 0);
  // Two groups compared (apac is too small): 2 ordered pairs, alpha/2 each. The bound is
  // Newcombe's interval at the always-valid critical z for the gap's information.
  assert.equal(r.numbers.alphaPerPair, 0.025);
  const v = (x: number, n: number) => {
    const p = (x + 0.5) / (n + 1);
    return (p * (1 - p)) / n;
  };
  const z = oneSidedCriticalZ(1 / (v(1800, 2250) + v(150, 250)), 0.05, 0.025);
  const bound = newcombeInterval({ successes: 1800, n: 2250 }, { successes: 150, n: 250 }, z).lower;
  const pair = region!.failingPair as Record<string, number>;
  near(pair.gapLowerPoints, bound * 100, 1e-12, "always-valid lower bound of the gap");
  assert.ok(bound > 0.05);
  assert.deepEqual(region!.insufficientGroups, [{ group: "apac", n: 25 }]);
  assert.match(
    r.reason,
    /region: gap 20 points between eu \(80\.0%, n = 2250\) and us \(60\.0%, n = 250\), baseline 0 points, eu over us by at least/,
  );
  assert.match(r.reason, /too small to compare: apac \(n = 25\)/);
});

test("a gap the baseline has too is not blamed on the candidate", () => {
  const same = groups({ eu: { successes: 1800, n: 2250 }, us: { successes: 150, n: 250 } });
  const r = judgeGroupGap(gapMetric, win({ groups: same }), win({ groups: same }), ctx);
  assert.equal(r.status, "pass");
  assert.match(r.reason, /above 5 points, as the baseline's is/);
  // Without the baseline's groups nothing can be shown beyond its gap: never a fail.
  const alone = judgeGroupGap(gapMetric, win(), win({ groups: same }), ctx);
  assert.equal(alone.status, "inconclusive");
});

test("the gap agrees with the fairness engine's successByGroup on the same rows", () => {
  const rows = [...Array(40).fill(1), ...Array(10).fill(0), ...Array(30).fill(1), ...Array(20).fill(0)];
  const features = [...Array(50).fill("a"), ...Array(50).fill("b")];
  const expected = successByGroup(rows, { sensitiveFeatures: features, minGroupSize: 30 }).maxGapPoints;
  const cand = win({ groups: groups({ a: { successes: 40, n: 50 }, b: { successes: 30, n: 50 } }) });
  const r = judgeGroupGap(gapMetric, win(), cand, ctx);
  near(r.numbers.worstGapPoints, expected!, 1e-12, "gap");
  near(r.numbers.worstGapPoints, 20, 1e-12, "gap");
});

test("a 10-point gap between groups of 40 is not shown over 6 ordered pairs: inconclusive", () => {
  const cand = win({
    groups: groups({ a: { successes: 32, n: 40 }, b: { successes: 28, n: 40 }, c: { successes: 30, n: 40 } }),
  });
  const base = win({
    groups: groups({
      a: { successes: 300, n: 400 },
      b: { successes: 300, n: 400 },
      c: { successes: 300, n: 400 },
    }),
  });
  const r = judgeGroupGap(gapMetric, base, cand, ctx);
  assert.equal(r.status, "inconclusive");
  near(r.numbers.alphaPerPair, 0.05 / 6, 1e-12, "alpha per ordered pair");
});

test("gap pass, and groups too small to compare are reported, not dropped", () => {
  const pass = win({ groups: groups({ a: { successes: 80, n: 100 }, b: { successes: 78, n: 100 } }) });
  assert.equal(judgeGroupGap(gapMetric, win(), pass, ctx).status, "pass");
  const small = win({ groups: groups({ a: { successes: 20, n: 25 }, b: { successes: 5, n: 25 } }) });
  const r = judgeGroupGap(gapMetric, win(), small, ctx);
  assert.equal(r.status, "insufficient_data");
  assert.match(
    r.reason,
    /region: fewer than two groups large enough to compare; too small to compare: a \(n = 25\), b \(n = 25\)/,
  );
  const none = judgeGroupGap(gapMetric, win(), win(), ctx);
  assert.equal(none.status, "insufficient_data");
  assert.match(none.reason, /carries no groups/);
});

test("an attribute without two groups blocks only when the metric names it", () => {
  const cand = win({
    groups: {
      region: { a: { successes: 80, n: 100 }, b: { successes: 79, n: 100 } },
      language: { en: { successes: 159, n: 200 } },
    },
  });
  assert.equal(judgeGroupGap(gapMetric, win(), cand, ctx).status, "pass");
  const named = { ...gapMetric, attributes: ["region", "language"] };
  assert.equal(judgeGroupGap(named, win(), cand, ctx).status, "insufficient_data");
});
