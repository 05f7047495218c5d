import assert from "node:assert/strict";
import { test } from "node:test";
import { BUCKETS, bucketOf, compileSplit } from "./split.ts";

test("over 10,000 subjects a 90/10 split lands within ±1 point, and every subject is sticky", () => {
  const split = compileSplit([
    { target: "1.0.0", weight: 90 },
    { target: "1.1.0", weight: 10 },
  ]);
  const first = new Map<string, string>();
  let canary = 0;
  for (let i = 0; i < 10_000; i++) {
    const subject = `user-${i}@example.com`;
    const v = split.pick(bucketOf(subject, "support-assistant"));
    first.set(subject, v);
    if (v === "1.1.0") canary++;
  }
  assert.ok(Math.abs(canary / 100 - 10) <= 1, `canary share ${canary / 100}%`);
  for (const [subject, v] of first) assert.equal(split.pick(bucketOf(subject, "support-assistant")), v);
  assert.equal(split.describe, "90/10");
});

test("moving weight moves only the subjects whose buckets change hands", () => {
  const before = compileSplit([
    { target: "a", weight: 95 },
    { target: "b", weight: 5 },
  ]);
  const after = compileSplit([
    { target: "a", weight: 75 },
    { target: "b", weight: 25 },
  ]);
  let movedBack = 0;
  for (let i = 0; i < 5000; i++) {
    const b = bucketOf(`s${i}`, "m");
    if (before.pick(b) === "b" && after.pick(b) === "a") movedBack++;
  }
  assert.equal(movedBack, 0, "a subject already on b never goes back to a when b's weight grows");
});

test("buckets spread evenly and differ per model", () => {
  const counts = new Array(10).fill(0);
  for (let i = 0; i < 20_000; i++) counts[Math.floor((bucketOf(`u${i}`, "m") / BUCKETS) * 10)]++;
  for (const c of counts) assert.ok(Math.abs(c - 2000) < 200, `decile ${c}`);
  let same = 0;
  for (let i = 0; i < 1000; i++) if (bucketOf(`u${i}`, "m1") === bucketOf(`u${i}`, "m2")) same++;
  assert.ok(same < 10);
  assert.throws(() => compileSplit([{ target: "x", weight: 0 }]), /weight > 0/);
});
