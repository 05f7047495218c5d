import assert from "node:assert/strict";
import { test } from "node:test";
import { compileFlag, FlagSet } from "../../engines/flags/index.ts";
import { bulkAnswer } from "./ofrep.routes.ts";

const set = new FlagSet([
  compileFlag({
    key: "a.tier",
    type: "object",
    variants: { small: { maxTokens: 256, tools: ["search"] }, big: { maxTokens: 4096, tools: [] } },
    defaultVariant: "small",
    enabled: true,
    rules: [{ when: { plan: "enterprise" }, variant: "big" }],
  }),
  compileFlag({
    key: "b.split",
    type: "string",
    variants: { x: "x", y: "y" },
    defaultVariant: "x",
    enabled: true,
    rules: [{ rollout: [{ variant: "y", weight: 1 }] }],
  }),
]);
const all = (context: Record<string, unknown>) => [...set.keys()].map((k) => set.evaluate(k, context, 0));

test("the bulk body is the OFREP JSON of each resolution (built once per resolution), and its ETag moves with it", () => {
  const pro = bulkAnswer(all({ plan: "pro", targetingKey: "u1" }));
  assert.deepEqual(JSON.parse(pro.body), {
    flags: [
      {
        key: "a.tier",
        value: { maxTokens: 256, tools: ["search"] },
        reason: "DEFAULT",
        variant: "small",
        metadata: {},
      },
      { key: "b.split", value: "y", reason: "SPLIT", variant: "y", metadata: {} },
    ],
  });
  assert.equal(pro.body, JSON.stringify(JSON.parse(pro.body)), "compact JSON, as JSON.stringify writes it");
  assert.match(pro.etag, /^"[\w-]{27}"$/);
  // The same answers (cached strings now): the same body and ETag.
  assert.deepEqual(bulkAnswer(all({ plan: "pro", targetingKey: "u1" })), pro);
  const ent = bulkAnswer(all({ plan: "enterprise" }));
  assert.notEqual(ent.etag, pro.etag);
  assert.deepEqual(JSON.parse(ent.body).flags[1], {
    key: "b.split",
    errorCode: "TARGETING_KEY_MISSING",
    errorDetails: "rule 0 splits by targetingKey, and the context has none",
  });
  assert.deepEqual(JSON.parse(ent.body).flags[0].value, { maxTokens: 4096, tools: [] });
});
