import assert from "node:assert/strict";
import { test } from "node:test";
import { storableJson, textProblem } from "./text-guard.ts";

test("storableJson: NUL and lone surrogates become U+FFFD in strings and keys; the rest is untouched", () => {
  const clean = { a: ["x", 1, null, { b: "日本 ✓ 😀" }], at: new Date(0) };
  assert.equal(storableJson(clean), clean, "nothing to change: the same object back");
  const dirty = {
    model: "bot\u0000",
    fallback: [{ reason: "upstream said \uD800 then \uDC00" }],
    ["k\u0000"]: "v",
    at: new Date(0),
    emoji: "😀",
  };
  const fixed = storableJson(dirty);
  assert.deepEqual(fixed, {
    model: "bot\uFFFD",
    fallback: [{ reason: "upstream said \uFFFD then \uFFFD" }],
    ["k\uFFFD"]: "v",
    at: new Date(0),
    emoji: "😀",
  });
  assert.ok(fixed.at instanceof Date, "a Date passes through as it is");
  assert.equal(dirty.model, "bot\u0000", "the input is not changed");
  assert.equal(textProblem(JSON.stringify(fixed)), null);
  assert.equal(storableJson("a\u0000b"), "a\uFFFDb");
});
