import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Contract, checkContractCompat } from "./contract-compat.ts";

// Exact (field, change[, from, to]) list so every expectation can fail.
function summary(prev: Contract | null | undefined, next: Contract | null | undefined) {
  const r = checkContractCompat(prev, next);
  assert.equal(r.compatible, r.problems.length === 0);
  return r.problems.map((p) =>
    p.from === undefined ? [p.field, p.change] : [p.field, p.change, p.from, p.to],
  );
}

const chat: Contract = {
  input: {
    type: "object",
    required: ["messages"],
    properties: {
      messages: {
        type: "array",
        items: {
          type: "object",
          required: ["role", "content"],
          properties: { role: { enum: ["user", "assistant", "system"] }, content: { type: "string" } },
        },
      },
      temperature: { type: "number", minimum: 0, maximum: 2 },
    },
  },
  output: {
    type: "object",
    required: ["answer"],
    properties: {
      answer: { type: "string" },
      citations: { type: "array", items: { $ref: "#/$defs/Citation" } },
    },
    $defs: { Citation: { type: "object", required: ["url"], properties: { url: { type: "string" } } } },
  },
};
// Loose view of a cloned contract for in-place edits.
// biome-ignore lint/suspicious/noExplicitAny: test fixtures are edited by path
type Loose = { input: any; output: any };
const clone = () => structuredClone(chat) as Loose;
const obj = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: "object",
  properties,
  required,
});

describe("checkContractCompat", () => {
  it("identical contracts are compatible", () => {
    assert.deepEqual(summary(chat, structuredClone(chat)), []);
    // annotations and key order do not matter
    const described = structuredClone(chat) as { output: Record<string, unknown> };
    described.output.description = "now documented";
    assert.deepEqual(summary(chat, described), []);
  });

  it("no previous contract is compatible", () => {
    assert.deepEqual(checkContractCompat(null, chat), { compatible: true, problems: [] });
    assert.deepEqual(checkContractCompat(undefined, null), { compatible: true, problems: [] });
    assert.deepEqual(checkContractCompat({}, { output: { type: "string" } }).problems, []);
  });

  it("removing the contract or one side of it is refused", () => {
    assert.deepEqual(summary(chat, null), [
      ["input", "contract_removed"],
      ["output", "contract_removed"],
    ]);
    assert.deepEqual(summary(chat, { input: chat.input }), [["output", "contract_removed"]]);
  });

  it("adding optional fields is compatible on both sides", () => {
    const next = clone();
    next.output.properties.latency_ms = { type: "integer" };
    next.input.properties.seed = { type: "integer" };
    assert.deepEqual(summary(chat, next), []);
  });

  it("removed output field is named", () => {
    const next = clone();
    delete next.output.properties.answer;
    next.output.required = [];
    const r = checkContractCompat(chat, next);
    assert.equal(r.compatible, false);
    assert.deepEqual(
      r.problems.map((p) => [p.field, p.change]),
      [["output.answer", "removed"]],
    );
  });

  it("retyped field inside array items (through $ref)", () => {
    const next = clone();
    next.output.$defs.Citation.properties.url = { type: "integer" };
    assert.deepEqual(summary(chat, next), [["output.citations[].url", "retyped", "string", "integer"]]);
  });

  it("input widening is compatible", () => {
    const prev = { input: obj({ n: { type: "integer" }, x: { type: "integer" } }) };
    const next = { input: obj({ n: { type: ["integer", "null"] }, x: { type: "number" } }) };
    assert.deepEqual(summary(prev, next), []);
  });

  it("input narrowing breaks", () => {
    const prev = { input: obj({ n: { type: ["integer", "null"] }, x: { type: "number" }, free: {} }) };
    const next = { input: obj({ n: { type: "integer" }, x: { type: "integer" }, free: { type: "string" } }) };
    assert.deepEqual(summary(prev, next), [
      ["input.free", "retyped", "any", "string"],
      ["input.n", "retyped", "integer|null", "integer"],
      ["input.x", "retyped", "number", "integer"],
    ]);
  });

  it("output widening breaks, output narrowing is fine", () => {
    const prev = { output: obj({ a: { type: "string" }, b: { type: "integer" }, c: { type: "number" } }) };
    const next = {
      output: obj({ a: { type: ["string", "null"] }, b: { type: "number" }, c: { type: "integer" } }),
    };
    assert.deepEqual(summary(prev, next), [
      ["output.a", "retyped", "string", "null|string"],
      ["output.b", "retyped", "integer", "number"],
    ]);
    // OpenAPI-style nullable is the same widening
    assert.deepEqual(
      summary(prev, { output: obj({ ...next.output.properties, a: { type: "string", nullable: true } }) }),
      [
        ["output.a", "retyped", "string", "null|string"],
        ["output.b", "retyped", "integer", "number"],
      ],
    );
  });

  it("input field that becomes required breaks", () => {
    const prev = { input: obj({ prompt: { type: "string" }, top_k: { type: "integer" } }, ["prompt"]) };
    const next = {
      input: obj({ prompt: { type: "string" }, top_k: { type: "integer" } }, ["prompt", "top_k", "user"]),
    };
    assert.deepEqual(summary(prev, next), [
      ["input.top_k", "newly_required"],
      ["input.user", "newly_required"],
    ]);
    // required -> optional on input is a widening
    assert.deepEqual(summary(next, prev), []);
  });

  it("output field that becomes optional breaks", () => {
    const prev = { output: obj({ answer: { type: "string" }, score: { type: "number" } }, ["answer"]) };
    const next = { output: obj({ answer: { type: "string" }, score: { type: "number" } }, ["score"]) };
    assert.deepEqual(summary(prev, next), [["output.answer", "retyped", "required", "optional"]]);
  });

  it("enum changes: input may gain values, output may lose them", () => {
    const small = obj({ mode: { type: "string", enum: ["fast", "slow"] } });
    const big = obj({ mode: { type: "string", enum: ["fast", "slow", "auto"] } });
    assert.deepEqual(summary({ input: small }, { input: big }), []);
    assert.deepEqual(summary({ input: big }, { input: small }), [
      ["input.mode", "retyped", 'enum["fast","slow","auto"]', 'enum["fast","slow"]'],
    ]);
    assert.deepEqual(summary({ output: big }, { output: small }), []);
    assert.deepEqual(summary({ output: small }, { output: big }), [
      ["output.mode", "retyped", 'enum["fast","slow"]', 'enum["fast","slow","auto"]'],
    ]);
    // string -> enum narrows input; const member outside the old enum widens output
    assert.deepEqual(summary({ input: obj({ mode: { type: "string" } }) }, { input: small }), [
      ["input.mode", "retyped", "string", 'enum["fast","slow"]'],
    ]);
    assert.deepEqual(summary({ output: small }, { output: obj({ mode: { const: "auto" } }) }), [
      ["output.mode", "retyped", 'enum["fast","slow"]', 'enum["auto"]'],
    ]);
  });

  it("resolves cyclic $ref definitions without looping", () => {
    const tree = (label: unknown) => ({
      type: "object",
      properties: { root: { $ref: "#/$defs/Node" } },
      $defs: {
        Node: {
          type: "object",
          required: ["label"],
          properties: { label: label, children: { type: "array", items: { $ref: "#/$defs/Node" } } },
        },
      },
    });
    assert.deepEqual(summary({ output: tree({ type: "string" }) }, { output: tree({ type: "string" }) }), []);
    assert.deepEqual(summary({ output: tree({ type: "string" }) }, { output: tree({ type: "integer" }) }), [
      ["output.root.label", "retyped", "string", "integer"],
    ]);
    // renamed definition with the same shape is not a change
    const renamed = JSON.parse(JSON.stringify(tree({ type: "string" })).replaceAll("Node", "TreeNode"));
    assert.deepEqual(summary({ output: tree({ type: "string" }) }, { output: renamed }), []);
    // a dangling ref is never silently compatible
    assert.deepEqual(
      summary({ output: tree({ type: "string" }) }, { output: obj({ root: { $ref: "#/$defs/Gone" } }) }),
      [["output.root", "retyped"]],
    );
  });

  it("nullable nested model (anyOf [$ref, null]) is walked into", () => {
    const meta = (props: Record<string, unknown>) => ({
      type: "object",
      properties: { meta: { anyOf: [{ $ref: "#/$defs/Meta" }, { type: "null" }], default: null } },
      $defs: { Meta: obj(props) },
    });
    assert.deepEqual(
      summary(
        { output: meta({ source: { type: "string" }, n: { type: "integer" } }) },
        {
          output: meta({ n: { type: "integer" } }),
        },
      ),
      [["output.meta.source", "removed"]],
    );
    // making the model non-nullable narrows output (fine) but narrows input (breaks)
    const plain = { type: "object", properties: { meta: obj({ n: { type: "integer" } }) } };
    assert.deepEqual(summary({ output: meta({ n: { type: "integer" } }) }, { output: plain }), []);
    assert.deepEqual(summary({ input: meta({ n: { type: "integer" } }) }, { input: plain }), [
      ["input.meta", "retyped", "null|object", "object"],
    ]);
  });

  it("constraints and uncomparable keywords are conservative", () => {
    const prev = {
      input: obj({ q: { type: "string", maxLength: 100 }, id: { type: "string", pattern: "^a" } }),
    };
    const next = {
      input: obj({ q: { type: "string", maxLength: 50 }, id: { type: "string", pattern: "^b" } }),
    };
    assert.deepEqual(summary(prev, next), [
      ["input.id", "retyped", 'pattern="^a"', 'pattern="^b"'],
      ["input.q", "retyped", "maxLength=100", "maxLength=50"],
    ]);
    assert.deepEqual(
      summary(next, { input: obj({ q: { type: "string", maxLength: 80 }, id: { type: "string" } }) }),
      [],
    );
  });

  it("closing an input object breaks, opening an output object does not", () => {
    const open = obj({ a: { type: "string" } });
    const closed = { ...open, additionalProperties: false };
    assert.deepEqual(summary({ input: open }, { input: closed }), [["input.*", "retyped", "any", "never"]]);
    assert.deepEqual(summary({ output: closed }, { output: open }), []);
  });

  it("reports several problems sorted by field then change, without duplicates", () => {
    const prev = {
      input: obj({ b: { type: "string" }, a: { type: "string" } }),
      output: obj({ z: { type: "string" }, y: { type: "string" }, m: { enum: ["a"], maxLength: 1 } }, ["z"]),
    };
    const next = {
      input: obj({ a: { type: "integer" } }, ["a"]),
      output: obj({ y: { type: "integer" }, m: { enum: ["a", "bb"] } }),
    };
    assert.deepEqual(summary(prev, next), [
      ["input.a", "newly_required"],
      ["input.a", "retyped", "string", "integer"],
      ["input.b", "removed"],
      ["output.m", "retyped", 'enum["a"]', 'enum["a","bb"]'], // enum and maxLength: one entry
      ["output.y", "retyped", "string", "integer"],
      ["output.z", "removed"],
    ]);
  });
});
