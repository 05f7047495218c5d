import assert from "node:assert/strict";
import { test } from "node:test";
import { parseTiers } from "./router.ts";

test("--tiers reads name=target pairs cheapest first, and names what it could not read", () => {
  assert.deepEqual(parseTiers("cheap=support-small,strong=support-large@2.1.0"), [
    { name: "cheap", target: "support-small" },
    { name: "strong", target: "support-large@2.1.0" },
  ]);
  assert.throws(
    () => parseTiers("cheap=a,strong"),
    /--tiers: expected name=model\[@version\],… cheapest first, got 'strong'/,
  );
});
