import assert from "node:assert/strict";
import { test } from "node:test";
import { jsonSchema } from "./json.ts";
import { SCHEMA_CACHE_SIZE, schemaCacheStats, schemaProblems, validateJson } from "./json-schema.ts";

/*
 * What Pydantic v2 prints for (by hand, as `Order.model_json_schema()` gives it):
 *
 *   class Status(str, Enum): open = "open"; closed = "closed"
 *   class Address(BaseModel): street: str; city: str; postcode: str | None = None
 *   class LineItem(BaseModel): sku: str; quantity: int = Field(gt=0)
 *   class Card(BaseModel): kind: Literal["card"]; last4: str = Field(pattern=r"^\d{4}$")
 *   class Transfer(BaseModel): kind: Literal["transfer"]; iban: str
 *   class Order(BaseModel):
 *       id: int = Field(gt=0); email: EmailStr; created_at: datetime; status: Status
 *       shipping: Address | None = None; items: list[LineItem] = Field(min_length=1)
 *       payment: Card | Transfer = Field(discriminator="kind"); note: str | None = None
 */
const ORDER = {
  $defs: {
    Address: {
      properties: {
        street: { title: "Street", type: "string" },
        city: { title: "City", type: "string" },
        postcode: { anyOf: [{ type: "string" }, { type: "null" }], default: null, title: "Postcode" },
      },
      required: ["street", "city"],
      title: "Address",
      type: "object",
    },
    Card: {
      properties: {
        kind: { const: "card", title: "Kind", type: "string" },
        last4: { pattern: "^\\d{4}$", title: "Last4", type: "string" },
      },
      required: ["kind", "last4"],
      title: "Card",
      type: "object",
    },
    LineItem: {
      properties: {
        sku: { title: "Sku", type: "string" },
        quantity: { exclusiveMinimum: 0, title: "Quantity", type: "integer" },
      },
      required: ["sku", "quantity"],
      title: "LineItem",
      type: "object",
    },
    Status: { enum: ["open", "closed"], title: "Status", type: "string" },
    Transfer: {
      properties: {
        kind: { const: "transfer", title: "Kind", type: "string" },
        iban: { title: "Iban", type: "string" },
      },
      required: ["kind", "iban"],
      title: "Transfer",
      type: "object",
    },
  },
  properties: {
    id: { exclusiveMinimum: 0, title: "Id", type: "integer" },
    email: { format: "email", title: "Email", type: "string" },
    created_at: { format: "date-time", title: "Created At", type: "string" },
    status: { $ref: "#/$defs/Status" },
    shipping: { anyOf: [{ $ref: "#/$defs/Address" }, { type: "null" }], default: null },
    items: { items: { $ref: "#/$defs/LineItem" }, minItems: 1, title: "Items", type: "array" },
    payment: {
      discriminator: {
        mapping: { card: "#/$defs/Card", transfer: "#/$defs/Transfer" },
        propertyName: "kind",
      },
      oneOf: [{ $ref: "#/$defs/Card" }, { $ref: "#/$defs/Transfer" }],
      title: "Payment",
    },
    note: { anyOf: [{ type: "string" }, { type: "null" }], default: null, title: "Note" },
  },
  required: ["id", "email", "created_at", "status", "items", "payment"],
  title: "Order",
  type: "object",
};

const GOOD = {
  id: 7,
  email: "ana@example.com",
  created_at: "2026-12-07T21:40:00Z",
  status: "open",
  shipping: { street: "1 Rue X", city: "Lyon", postcode: null },
  items: [{ sku: "A-1", quantity: 2 }],
  payment: { kind: "card", last4: "4242" },
  note: null,
};

const score = (value: unknown) => jsonSchema.score({ text: JSON.stringify(value) }, { schema: ORDER }, {});

test("a Pydantic v2 schema ($defs, $ref, anyOf with null, enum, formats, exclusiveMinimum, discriminator) is accepted", () => {
  assert.deepEqual(schemaProblems(ORDER), []);
  assert.equal(jsonSchema.checkExpect({ schema: ORDER }, {}), undefined);
});

test("a Pydantic v2 schema judges passing answers as passing", () => {
  assert.deepEqual(score(GOOD), { score: 1, passed: true, reason: "output matches the schema" });
  const { shipping: _s, note: _n, ...minimal } = GOOD;
  assert.equal(score({ ...minimal, payment: { kind: "transfer", iban: "FR76" } }).passed, true);
  // A fenced answer is read, as for any json_schema case.
  const fenced = jsonSchema.score(
    { text: `\`\`\`json\n${JSON.stringify(GOOD)}\n\`\`\`` },
    { schema: ORDER },
    {},
  );
  assert.equal(fenced.passed, true);
});

test("a Pydantic v2 schema judges failing answers as failing, naming the pointer and the reason", () => {
  const fails = (value: unknown, reason: RegExp) => {
    const r = score(value);
    assert.equal(r.passed, false, JSON.stringify(value));
    assert.equal(r.score, 0);
    assert.match(r.reason, reason);
  };
  fails({ ...GOOD, id: 0 }, /^schema mismatch: \/id: must be > 0$/);
  fails({ ...GOOD, email: "not-an-email" }, /\/email: must match format "email"/);
  fails({ ...GOOD, created_at: "yesterday" }, /\/created_at: must match format "date-time"/);
  fails(
    { ...GOOD, status: "pending" },
    /\/status: must be equal to one of the allowed values: "open", "closed"/,
  );
  fails({ ...GOOD, shipping: { street: "1 Rue X" } }, /\/shipping: must have required property 'city'/);
  fails({ ...GOOD, note: 5 }, /\/note: must be string/);
  fails({ ...GOOD, items: [{ sku: "A-1", quantity: 0 }] }, /\/items\/0\/quantity: must be > 0/);
  fails({ ...GOOD, items: [] }, /\/items: must NOT have fewer than 1 items/);
  fails({ ...GOOD, payment: { kind: "card", last4: "42" } }, /\/payment\/last4: must match pattern/);
  fails({ ...GOOD, payment: { kind: "cash" } }, /\/payment/);
  const { email: _e, ...noEmail } = GOOD;
  fails(noEmail, /\(root\): must have required property 'email'/);
  // Three failures are shown, the rest counted.
  fails({ id: -1, email: 1, created_at: 2, status: 3, items: 4, payment: 5 }, /\(and \d+ more\)$/);
});

test("a schema is compiled once, whatever its key order; the cache is bounded", () => {
  const schema = { type: "object", properties: { a: { type: "integer", exclusiveMaximum: 10 } } };
  const before = schemaCacheStats().compiles;
  assert.deepEqual(validateJson({ a: 1 }, schema), []);
  assert.deepEqual(
    validateJson({ a: 10 }, { properties: { a: { exclusiveMaximum: 10, type: "integer" } }, type: "object" }),
    ["/a: must be < 10"],
  );
  assert.equal(schemaCacheStats().compiles, before + 1);
  for (let i = 0; i < SCHEMA_CACHE_SIZE + 5; i++) schemaProblems({ const: i });
  assert.equal(schemaCacheStats().entries, SCHEMA_CACHE_SIZE);
});

test("two schemas may carry the same $id; a draft other than 2020-12 is named", () => {
  assert.deepEqual(validateJson("x", { $id: "https://example.com/s", type: "string" }), []);
  assert.deepEqual(validateJson("x", { $id: "https://example.com/s", type: "number" }), [
    "(root): must be number",
  ]);
  assert.match(
    schemaProblems({ $schema: "http://json-schema.org/draft-07/schema#", type: "string" })[0]!,
    /^schema\.\$schema: only draft 2020-12 is supported/,
  );
  assert.deepEqual(
    schemaProblems({ $schema: "https://json-schema.org/draft/2020-12/schema", type: "string" }),
    [],
  );
});
