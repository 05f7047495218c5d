import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { near } from "../../test-support/approx.ts";
import { powerMeans, powerTwoProportions, sampleSizeMeans, sampleSizeTwoProportions } from "./power.ts";

interface Case {
  id: string;
  alpha: number;
  power: number;
  p1: number;
  p2: number;
  method: string;
  expect: { perArm: number; perArmRoundedUp: number };
  tolerance?: string;
}
const vectors = JSON.parse(
  readFileSync(new URL("../../../reference/stats-vectors.json", import.meta.url), "utf8"),
) as { sampleSize: Case[] };

test("the vectors file has the sample-size cases", () => {
  assert.deepEqual(
    vectors.sampleSize.map((c) => c.id),
    ["proportions-0.10-0.12-unpooled", "proportions-0.10-0.12-pooled"],
  );
});

for (const c of vectors.sampleSize) {
  test(`vector ${c.id}: units per arm`, () => {
    const pooled = c.method.startsWith("pooled");
    assert.ok(pooled || c.method.startsWith("unpooled"), `unknown method ${c.method}`);
    const rel = c.tolerance ? Number.parseFloat(c.tolerance) : 1e-4;
    const r = sampleSizeTwoProportions({ p1: c.p1, p2: c.p2, alpha: c.alpha, power: c.power, pooled });
    near(r.perArm, c.expect.perArm, rel, "perArm");
    assert.equal(r.perArmRoundedUp, c.expect.perArmRoundedUp);
  });
}

test("power at the computed sample size is the power asked for (both conventions)", () => {
  for (const pooled of [true, false]) {
    const n = sampleSizeTwoProportions({ p1: 0.1, p2: 0.12, pooled }).perArm;
    near(powerTwoProportions({ p1: 0.1, p2: 0.12, n, pooled }), 0.8, 1e-10, `power pooled=${pooled}`);
    near(powerTwoProportions({ p1: 0.12, p2: 0.1, n, pooled }), 0.8, 1e-10, "symmetric in direction");
  }
  const n = sampleSizeMeans({ delta: 0.5, sd: 1, power: 0.9, alpha: 0.01 }).perArm;
  near(powerMeans({ delta: -0.5, sd: 1, n, alpha: 0.01 }), 0.9, 1e-10, "means power");
});

test("scipy: power at n = 3000 per arm and sample size for a mean difference of half an sd", () => {
  // norm.cdf((|p2 - p1| sqrt(n) - z(0.975) sd0) / sd1)
  near(powerTwoProportions({ p1: 0.1, p2: 0.12, n: 3000 }), 0.6970453004045689, 1e-9, "pooled");
  near(
    powerTwoProportions({ p1: 0.1, p2: 0.12, n: 3000, pooled: false }),
    0.6973950578129962,
    1e-9,
    "unpooled",
  );
  // 2 (z(0.975) + z(0.8))^2 / 0.5^2, the normal-approximation 63 per arm of the textbooks
  const m = sampleSizeMeans({ delta: 0.5, sd: 1 });
  near(m.perArm, 62.79103787479271, 1e-9, "means perArm");
  assert.equal(m.perArmRoundedUp, 63);
  near(sampleSizeMeans({ delta: 1, sd: 2 }).perArm, 62.79103787479271, 1e-9, "scale-free in delta/sd");
  near(powerMeans({ delta: 0.5, sd: 1, n: 50 }), 0.7054139024424572, 1e-9, "means power n=50");
});

test("invalid designs are RangeErrors naming the argument", () => {
  assert.throws(() => sampleSizeTwoProportions({ p1: 0.1, p2: 0.1 }), {
    name: "RangeError",
    message: /sampleSizeTwoProportions: p2 must differ from p1/,
  });
  assert.throws(() => sampleSizeTwoProportions({ p1: 0, p2: 0.1 }), {
    name: "RangeError",
    message: /p1 must be a probability in \(0, 1\)/,
  });
  assert.throws(() => sampleSizeTwoProportions({ p1: 0.1, p2: 0.2, power: 1 }), {
    name: "RangeError",
    message: /power/,
  });
  assert.throws(() => sampleSizeTwoProportions({ p1: 0.1, p2: 0.2, power: 0.01 }), {
    name: "RangeError",
    message: /power is too low/,
  });
  assert.throws(() => powerTwoProportions({ p1: 0.1, p2: 0.2, n: 0 }), {
    name: "RangeError",
    message: /n must be > 0/,
  });
  assert.throws(() => sampleSizeMeans({ delta: 0, sd: 1 }), {
    name: "RangeError",
    message: /delta must be a finite non-zero/,
  });
  assert.throws(() => powerMeans({ delta: 1, sd: -1, n: 10 }), {
    name: "RangeError",
    message: /powerMeans: sd must be > 0/,
  });
});
