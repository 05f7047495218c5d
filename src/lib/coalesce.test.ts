import assert from "node:assert/strict";
import { test } from "node:test";
import { coalesced } from "./coalesce.ts";

/** A lookup whose runs the test finishes by hand: each answers its run number. */
function manual() {
  const runs: { key: string; finish: (fail?: Error) => void }[] = [];
  const f = (key: string) =>
    new Promise<string>((resolve, reject) => {
      const n = runs.length + 1;
      runs.push({ key, finish: (fail) => (fail ? reject(fail) : resolve(`${key}#${n}`)) });
    });
  return { runs, f };
}
const tick = () => new Promise((r) => setImmediate(r));

test("calls made while a run is under way share the next run, started when it ends: never an answer from before the call", async () => {
  const { runs, f } = manual();
  const get = coalesced(f);
  const first = get("a");
  const [b, c] = [get("a"), get("a")];
  await tick();
  assert.equal(runs.length, 1, "one run at a time");
  runs[0]!.finish();
  assert.equal(await first, "a#1");
  await tick();
  assert.equal(runs.length, 2, "the calls made during run 1 started run 2");
  const d = get("a"); // during run 2: waits for run 3
  runs[1]!.finish();
  assert.deepEqual(await Promise.all([b, c]), ["a#2", "a#2"]);
  await tick();
  runs[2]!.finish();
  assert.equal(await d, "a#3");
  // Nothing under way: a call starts its own run.
  const e = get("a");
  runs[3]!.finish();
  assert.equal(await e, "a#4");
});

test("keys are independent, and a failure is shared by its run's callers, not by the next run's", async () => {
  const { runs, f } = manual();
  const get = coalesced(f);
  const a = get("a");
  const b = get("b");
  assert.deepEqual(
    runs.map((r) => r.key),
    ["a", "b"],
  );
  const a2 = get("a");
  runs[0]!.finish(new Error("store away"));
  await assert.rejects(a, /store away/);
  await tick();
  runs[2]!.finish();
  assert.equal(await a2, "a#3");
  runs[1]!.finish();
  assert.equal(await b, "b#2");
});
