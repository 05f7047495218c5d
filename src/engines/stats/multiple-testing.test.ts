import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { nearAll } from "../../test-support/approx.ts";
import { adjustPValues, benjaminiHochberg, bonferroni, holm } from "./multiple-testing.ts";

interface Case {
  id: string;
  p: number[];
  expect: { benjaminiHochberg: number[]; holm: number[]; bonferroni: number[] };
}
const vectors = JSON.parse(
  readFileSync(new URL("../../../reference/stats-vectors.json", import.meta.url), "utf8"),
) as { multipleTesting: Case[] };

test("the vectors file has the multiple-testing case", () => {
  assert.deepEqual(
    vectors.multipleTesting.map((c) => c.id),
    ["holm-bh"],
  );
});

for (const c of vectors.multipleTesting) {
  test(`vector ${c.id}: Benjamini-Hochberg, Holm and Bonferroni in input order`, () => {
    nearAll(benjaminiHochberg(c.p), c.expect.benjaminiHochberg, 1e-12, "benjaminiHochberg");
    nearAll(holm(c.p), c.expect.holm, 1e-12, "holm");
    nearAll(bonferroni(c.p), c.expect.bonferroni, 1e-12, "bonferroni");
    nearAll(adjustPValues(c.p, "benjamini-hochberg"), c.expect.benjaminiHochberg, 1e-12, "adjust bh");
    nearAll(adjustPValues(c.p, "holm"), c.expect.holm, 1e-12, "adjust holm");
    nearAll(adjustPValues(c.p, "bonferroni"), c.expect.bonferroni, 1e-12, "adjust bonferroni");
  });
}

test("R p.adjust definitions with ties: p = (0.04, 0.01, 0.04, 0.5)", () => {
  const p = [0.04, 0.01, 0.04, 0.5];
  // p.adjust(p, "holm") = 0.12 0.04 0.12 0.50; p.adjust(p, "BH") = 0.05333 0.04 0.05333 0.5
  nearAll(holm(p), [0.12, 0.04, 0.12, 0.5], 1e-12, "holm");
  nearAll(benjaminiHochberg(p), [0.16 / 3, 0.04, 0.16 / 3, 0.5], 1e-12, "bh");
});

test("Bonferroni >= Holm >= BH >= raw, all capped at 1, and a single test is unadjusted", () => {
  const p = [0.3, 0.001, 0.2, 0.04, 0.9, 0.012, 0.5];
  const bf = bonferroni(p);
  const h = holm(p);
  const bh = benjaminiHochberg(p);
  p.forEach((x, i) => {
    assert.ok(bf[i]! >= h[i]! && h[i]! >= bh[i]! && bh[i]! >= x, `ordering at ${i}`);
    assert.ok(bf[i]! <= 1);
  });
  assert.deepEqual(holm([0.03]), [0.03]);
  assert.deepEqual(benjaminiHochberg([0.03]), [0.03]);
});

test("invalid p-values are RangeErrors naming the element", () => {
  assert.throws(() => holm([0.1, 1.2]), {
    name: "RangeError",
    message: /holm: p\[1\] must be a probability/,
  });
  assert.throws(() => benjaminiHochberg([]), {
    name: "RangeError",
    message: /benjaminiHochberg: p must be an array/,
  });
  assert.throws(() => adjustPValues([0.1], "sidak" as never), {
    name: "RangeError",
    message: /method must be/,
  });
});
