import assert from "node:assert/strict";
import { test } from "node:test";
import { jsonSchema, jsonValid, parseJsonOutput } from "./json.ts";
import { schemaProblems, validateJson } from "./json-schema.ts";

const out = (text: string) => ({ text });

test("json_valid accepts plain and fenced JSON, rejects prose, and can refuse fences", () => {
  assert.equal(jsonValid.score(out('{"a":1}'), {}, {}).passed, true);
  assert.equal(jsonValid.score(out('```json\n{"a":1}\n```'), {}, {}).passed, true);
  assert.equal(jsonValid.score(out('```json\n{"a":1}\n```'), {}, { stripFences: false }).passed, false);
  const r = jsonValid.score(out("Sure! {a: 1}"), {}, {});
  assert.equal(r.passed, false);
  assert.match(r.reason, /not valid JSON/);
  assert.deepEqual(parseJsonOutput("[1, 2]", {}), { ok: true, value: [1, 2] });
});

const ticket = {
  type: "object",
  required: ["category", "priority"],
  additionalProperties: false,
  properties: {
    category: { enum: ["billing", "technical"] },
    priority: { type: "integer", minimum: 1, maximum: 3 },
    summary: { type: "string", minLength: 3, maxLength: 10 },
    tags: { type: "array", items: { type: "string" }, maxItems: 2 },
  },
};

test("validateJson: a valid document has no failures", () => {
  assert.deepEqual(
    validateJson({ category: "billing", priority: 2, summary: "refund", tags: ["a"] }, ticket),
    [],
  );
});

test("validateJson names the path of every failure", () => {
  const errors = validateJson(
    { category: "sales", priority: 2.5, summary: "ok", tags: ["a", 7, "c"], extra: true },
    ticket,
  );
  assert.deepEqual(errors, [
    '(root): must NOT have additional properties: "extra"',
    '/category: must be equal to one of the allowed values: "billing", "technical"',
    "/priority: must be integer",
    "/summary: must NOT have fewer than 3 characters",
    "/tags: must NOT have more than 2 items",
    "/tags/1: must be string",
  ]);
  assert.deepEqual(validateJson({ priority: 9 }, ticket), [
    "(root): must have required property 'category'",
    "/priority: must be <= 3",
  ]);
  assert.deepEqual(validateJson(null, { type: ["object", "null"] }), []);
});

test("schemaProblems refuses unknown keywords and malformed schemas instead of ignoring them", () => {
  assert.deepEqual(schemaProblems(ticket), []);
  assert.deepEqual(schemaProblems({ type: "object", properties: { a: { type: "str" } } }), [
    "schema/properties/a/type must be equal to one of the allowed values; schema/properties/a/type must be array; schema/properties/a/type must match a schema in anyOf",
  ]);
  assert.deepEqual(schemaProblems({ type: "object", propertys: {} }), ['unknown keyword: "propertys"']);
  assert.match(schemaProblems({ type: "string", format: "colour" })[0]!, /unknown format "colour"/);
  assert.deepEqual(schemaProblems([]), ["a schema is an object"]);
  assert.throws(() => validateJson(1, { type: "nope" }), RangeError);
});

test("json_schema takes expect.schema over the config schema and says which path failed", () => {
  const r = jsonSchema.score(out('{"category":"billing","priority":5}'), { schema: ticket }, {});
  assert.equal(r.passed, false);
  assert.match(r.reason, /\/priority: must be <= 3/);
  assert.equal(jsonSchema.score(out('{"n":1}'), {}, { schema: { type: "object" } }).passed, true);
  assert.equal(
    jsonSchema.score(out('"x"'), { schema: { type: "number" } }, { schema: { type: "string" } }).passed,
    false,
  );
  assert.match(jsonSchema.score(out("nope"), { schema: ticket }, {}).reason, /not valid JSON/);
  assert.match(jsonSchema.checkExpect({}, {}) ?? "", /needs expect\.schema/);
});
