import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type DecisionLike, groupDecisions } from "./decision-groups.ts";

let second = 0;
/** Decisions newest first, as the API lists them: each call one second earlier than the last. */
const d = (decision: string, stepIndex = 0, weightAfter = 5, verdict: string | null = "inconclusive") => {
  const at = new Date(Date.UTC(2026, 11, 7, 12, 40, 0) - 1000 * second++).toISOString();
  return { decision, at, stepIndex, weightAfter, analysis: verdict ? { verdict, metrics: [] } : null };
};
const shape = (ds: DecisionLike[]) =>
  groupDecisions(ds).map((r) => (r.kind === "one" ? r.decision.decision : `hold×${r.decisions.length}`));

describe("grouping a rollout's decisions", () => {
  test("consecutive holds become one row; everything else stays a row of its own", () => {
    second = 0;
    const ds = [
      d("rollback", 1, 0, "fail"),
      d("hold", 1, 25),
      d("hold", 1, 25),
      d("hold", 1, 25),
      d("advance", 1, 25, "pass"),
      d("hold", 0, 5),
      d("hold", 0, 5),
      d("pause", 0, 5, null),
      d("hold", 0, 5),
      d("start", 0, 5, null),
    ];
    assert.deepEqual(shape(ds), ["rollback", "hold×3", "advance", "hold×2", "pause", "hold", "start"]);
  });

  test("a group spans its earliest to its latest time, and keeps its decisions in order", () => {
    second = 0;
    const ds = [d("hold"), d("hold"), d("hold")];
    const [row] = groupDecisions(ds);
    assert.equal(row?.kind, "holds");
    if (row?.kind !== "holds") return;
    assert.equal(row.from, "2026-12-07T12:39:58.000Z");
    assert.equal(row.to, "2026-12-07T12:40:00.000Z");
    assert.deepEqual(row.decisions, ds);
  });

  test("holds on another step, at another weight or with another verdict are not the same hold", () => {
    second = 0;
    assert.deepEqual(shape([d("hold", 1, 25), d("hold", 0, 25)]), ["hold", "hold"]);
    assert.deepEqual(shape([d("hold", 0, 25), d("hold", 0, 5)]), ["hold", "hold"]);
    assert.deepEqual(shape([d("hold", 0, 5, "insufficient_data"), d("hold", 0, 5, "inconclusive")]), [
      "hold",
      "hold",
    ]);
  });

  test("37 holds in a row are one row", () => {
    second = 0;
    const ds = [d("promote", 3, 100, "pass"), ...Array.from({ length: 37 }, () => d("hold", 3, 100))];
    assert.deepEqual(shape(ds), ["promote", "hold×37"]);
    assert.deepEqual(shape([]), []);
  });
});
