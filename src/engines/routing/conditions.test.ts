import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CONTEXT_PATHS,
  ConditionError,
  compileCondition,
  firstMatch,
  type RequestFacts,
} from "./conditions.ts";

const facts = (over: Partial<RequestFacts> = {}): RequestFacts => ({
  metadata: { tier: "enterprise", region: "eu", tags: ["beta", "legal"] },
  params: { model: "support", max_tokens: 4000, temperature: 0.2 },
  features: { tokens_in: 1800, script: "latin", code: true, messages: 7 },
  ...over,
});

test("equality, comparison, membership, patterns and existence over metadata, params and features", () => {
  const holds = (c: unknown) => compileCondition(c)(facts());
  assert.equal(holds({ "metadata.tier": "enterprise" }), true);
  assert.equal(holds({ "metadata.tier": "free" }), false);
  assert.equal(holds({ "params.max_tokens": { $gt: 2000 } }), true);
  assert.equal(holds({ "params.max_tokens": { $gt: 4000 } }), false);
  assert.equal(holds({ "params.max_tokens": { $gte: 4000, $lte: 4000 } }), true, "two operators on one path");
  assert.equal(holds({ "params.temperature": { $lt: 0.5 } }), true);
  assert.equal(holds({ "features.script": { $in: ["cyrillic", "greek"] } }), false);
  assert.equal(holds({ "features.script": { $nin: ["cyrillic", "greek"] } }), true);
  assert.equal(holds({ "metadata.tags": "legal" }), true, "an array value holds if an item equals");
  assert.equal(holds({ "metadata.tags": { $in: ["medical", "beta"] } }), true);
  assert.equal(holds({ "metadata.region": { $regex: "^e[uw]$" } }), true);
  assert.equal(holds({ "features.tokens_in": { $regex: "18" } }), false, "a pattern matches strings only");
  assert.equal(holds({ "metadata.user": { $exists: false } }), true);
  assert.equal(holds({ "metadata.user": { $exists: true } }), false);
  assert.equal(holds({ "metadata.tier": { $ne: "free" } }), true);
  // A comparison across types never holds: "4000" is not greater than 2000.
  assert.equal(
    compileCondition({ "params.max_tokens": { $gt: 2000 } })(facts({ params: { max_tokens: "4000" } })),
    false,
  );
  // Nested values and missing parents.
  assert.equal(compileCondition({ "metadata.a.b": 1 })(facts({ metadata: { a: { b: 1 } } })), true);
  assert.equal(compileCondition({ "metadata.a.b": 1 })(facts({ metadata: { a: 5 } })), false);
});

test("several keys must all hold; $and, $or and $not combine", () => {
  const c = compileCondition({
    "metadata.region": "eu",
    $or: [{ "features.code": true }, { "features.tokens_in": { $gt: 4000 } }],
    $not: { "metadata.tier": "free" },
  });
  assert.equal(c(facts()), true);
  assert.equal(c(facts({ metadata: { region: "us", tier: "enterprise" } })), false);
  assert.equal(c(facts({ features: { code: false, tokens_in: 10 } })), false);
  assert.equal(c(facts({ metadata: { region: "eu", tier: "free" } })), false);
  assert.equal(
    compileCondition({ $and: [{ "metadata.region": "eu" }, { "params.model": "x" }] })(facts()),
    false,
  );
  assert.equal(compileCondition({})(facts()), true, "the empty condition always holds (a default rule)");
});

test("first match wins, in order; none gives null", () => {
  const rules = [
    { test: compileCondition({ "metadata.tier": "free" }), target: "cheap" },
    { test: compileCondition({ "features.code": true }), target: "coder" },
    { test: compileCondition({ "params.max_tokens": { $gt: 1000 } }), target: "strong" },
  ];
  assert.equal(firstMatch(rules, facts()), "coder");
  assert.equal(firstMatch(rules, facts({ features: { code: false } })), "strong");
  assert.equal(firstMatch(rules, facts({ features: {}, params: {} })), null);
});

test("a bad condition is refused naming where and why", () => {
  const refused = (c: unknown, at: string, why: RegExp) => {
    assert.throws(
      () => compileCondition(c),
      (e: unknown) => e instanceof ConditionError && e.at === at && why.test(e.message),
      JSON.stringify(c),
    );
  };
  refused({ "user.tier": "x" }, "user.tier", /starts with metadata\., params\. or features\./);
  refused({ metadata: "x" }, "metadata", /starts with/);
  refused({ "metadata.tier": { $like: "x" } }, "metadata.tier.$like", /unknown operator \$like/);
  refused({ "metadata.tier": { $in: [] } }, "metadata.tier.$in", /non-empty list/);
  refused({ "metadata.tier": { $in: [{}] } }, "metadata.tier.$in", /non-empty list/);
  refused({ "metadata.tier": { $gt: true } }, "metadata.tier.$gt", /number or a string/);
  refused({ "metadata.tier": { $regex: "(" } }, "metadata.tier.$regex", /not a valid pattern/);
  refused({ "metadata.tier": { $regex: "a".repeat(513) } }, "metadata.tier.$regex", /at most 512/);
  refused({ "metadata.tier": {} }, "metadata.tier", /empty object/);
  refused({ "metadata.tier": ["a"] }, "metadata.tier", /a value or an object of operators/);
  refused({ $or: [] }, "$or", /non-empty list/);
  refused({ $or: [{ "metadata.a": 1 }, { "x.y": 1 }] }, "$or.1.x.y", /starts with/);
  refused({ $xor: [] }, "$xor", /unknown combinator/);
  refused([], "", /is an object/);
});

test("context paths (feature flags): bare attributes or context.-prefixed, nested, any name", () => {
  const ctx = { tenant: "internal", user: { plan: "pro" }, metadata: { x: 1 } };
  const holds = (c: unknown) => compileCondition<typeof ctx>(c, "", CONTEXT_PATHS)(ctx);
  assert.equal(holds({ tenant: "internal" }), true);
  assert.equal(holds({ "context.tenant": "internal" }), true);
  assert.equal(holds({ "user.plan": { $in: ["pro"] } }), true);
  assert.equal(holds({ "context.user.plan": "free" }), false);
  assert.equal(holds({ "metadata.x": 1 }), true, "a routing root is an ordinary attribute here");
  assert.throws(
    () => compileCondition({ tenant: "internal" }),
    /a path starts with metadata\., params\. or features\./,
  );
  assert.throws(() => compileCondition({ "a..b": 1 }, "", CONTEXT_PATHS), /a path names an attribute/);
});
