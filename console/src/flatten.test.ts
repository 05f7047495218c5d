import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { flatten } from "./flatten.ts";

const rows = (v: unknown) => flatten(v).map((e) => `${e.key}: ${e.value}`);

describe("flattening nested settings into key-value rows", () => {
  test("a simulator version's parameters", () => {
    assert.deepEqual(
      rows({
        latencyMs: { p50: 300, p95: 800 },
        errorRate: 0.005,
        quality: { success: 0.9, byGroup: { "age_band:65+": 0.6 } },
        seed: 1003,
      }),
      [
        "latencyMs.p50: 300",
        "latencyMs.p95: 800",
        "errorRate: 0.005",
        "quality.success: 0.9",
        "quality.byGroup.age_band:65+: 0.6",
        "seed: 1003",
      ],
    );
  });

  test("arrays: scalars on one row, objects indexed", () => {
    assert.deepEqual(
      rows({
        tags: ["a", "b"],
        steps: [
          { weight: 5, durationMs: 60000 },
          { weight: 100, pause: true },
        ],
      }),
      [
        "tags: a, b",
        "steps[0].weight: 5",
        "steps[0].durationMs: 60000",
        "steps[1].weight: 100",
        "steps[1].pause: true",
      ],
    );
  });

  test("empty containers, null and strings keep their key", () => {
    assert.deepEqual(rows({ a: {}, b: [], c: null, d: "x y", e: false }), [
      "a: {}",
      "b: []",
      "c: null",
      "d: x y",
      "e: false",
    ]);
  });

  test("keys that would read as paths are quoted", () => {
    assert.deepEqual(rows({ "a.b": 1, "": 2, x: { "with space": 3 } }), [
      '["a.b"]: 1',
      '[""]: 2',
      'x["with space"]: 3',
    ]);
  });

  test("a scalar alone is one row with an empty key", () => {
    assert.deepEqual(flatten(42), [{ key: "", value: "42" }]);
    assert.deepEqual(flatten([{ a: 1 }]), [{ key: "[0].a", value: "1" }]);
  });
});
