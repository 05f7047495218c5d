import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";

// The engines' tests read reference/stats-vectors.json, a copy of the published reference
// values kept in the repository so a clone anywhere can run them. Where the workspace's
// original sits beside the checkout (../shared/reference), the copy must equal it.
const copy = new URL("../../reference/stats-vectors.json", import.meta.url);
const original = new URL("../../../shared/reference/stats-vectors.json", import.meta.url);

test("the repository's copy of the reference vectors is the published file", () => {
  const mine = JSON.parse(readFileSync(copy, "utf8"));
  assert.ok(Array.isArray(mine.twoProportionZ) && Array.isArray(mine.fairness), "the copy has the vectors");
  if (existsSync(original)) assert.deepEqual(mine, JSON.parse(readFileSync(original, "utf8")));
});
