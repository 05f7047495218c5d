import assert from "node:assert/strict";
import { test } from "node:test";
import { batchInsert, csvOf } from "./batch-sink.ts";

test("csvOf quotes every string, doubles its quotes, writes NULL as an empty field and JSON for objects", () => {
  const csv = csvOf(
    [
      { a: 'say "hi", ok', b: null, c: 1.5, d: true, e: { k: 'v"' } },
      { a: "", b: undefined, c: Number.NaN, d: false, e: [1] },
    ],
    ["a", "b", "c", "d", "e"],
  );
  assert.equal(csv, '"say ""hi"", ok",,1.5,t,"{""k"":""v\\""""}"\n"",,,f,"[1]"\n');
});

test("batchInsert refuses a table with array columns (no CSV form for them here)", () => {
  assert.throws(() => batchInsert("feedback", [["labels", "text[]"]]), /array columns cannot be bulk-loaded/);
  assert.equal(typeof batchInsert("request_log", [["id", "text"]]), "function");
});
