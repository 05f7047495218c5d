import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { demoSuite } from "../../demo/suite.ts";
import { AppError } from "../../lib/errors.ts";
import { loadSuite, parseSuite, parseSuiteObject, readSuiteDocument, renderTemplate } from "./suite.ts";

const baseDir = "/suites";

/** The FieldProblems of the AppError that parsing `text` throws. */
function problems(text: string, files: Record<string, string> = {}): string[] {
  try {
    parseSuite(text, {
      baseDir,
      readText: (p) =>
        files[p] ??
        (() => {
          throw new Error("ENOENT");
        })(),
    });
  } catch (e) {
    assert.ok(e instanceof AppError);
    assert.equal(e.code, "invalid_input");
    return e.errors.map((x) => `${x.field}: ${x.reason}`);
  }
  assert.fail("expected the suite to be rejected");
}

const INLINE = `
name: faq
scorers: [exact_match, { kind: contains, require: any }]
cases:
  - id: a
    input: { messages: [{ role: user, content: "Capital of France?" }] }
    expect: { equals: Paris, contains: [Paris] }
    attributes: { language: en, input_length: 18 }
  - id: b
    input: { messages: [{ role: user, content: "2+2?" }] }
    expect: { number: 4 }
    scorers: [{ kind: numeric, absTolerance: 0 }]
`;

test("an inline suite parses: shorthand scorers expand, attribute numbers become strings, overrides stay", () => {
  const s = parseSuite(INLINE, { baseDir });
  assert.equal(s.name, "faq");
  assert.deepEqual(s.scorers, [{ kind: "exact_match" }, { kind: "contains", require: "any" }]);
  assert.deepEqual(s.cases[0]!.attributes, { language: "en", input_length: "18" });
  assert.deepEqual(s.cases[1]!.scorers, [{ kind: "numeric", absTolerance: 0 }]);
  assert.equal(s.cases[1]!.input.messages[0]!.content, "2+2?");
  assert.match(s.hash, /^sha256:[0-9a-f]{64}$/);
});

test("the hash ignores formatting and key order but changes with content", () => {
  const a = parseSuite(INLINE, { baseDir }).hash;
  const reordered = INLINE.replace(
    "expect: { equals: Paris, contains: [Paris] }",
    "expect:\n      contains: [Paris]\n      equals: Paris",
  );
  assert.equal(parseSuite(reordered, { baseDir }).hash, a);
  assert.notEqual(parseSuite(INLINE.replace("Capital of France?", "Capital of Spain?"), { baseDir }).hash, a);
});

test("every problem is reported with its path, not just the first", () => {
  const bad = `
name: Bad Name
scorers: [exact_match, { kind: llm_judge, model: judge, rubric: "", passAt: 2 }]
cases:
  - id: ok
    input: { messages: [{ role: robot, content: hi }] }
    expect: { equals: x }
  - id: ok
    input: { messages: [] }
    attributes: { Gender: f }
`;
  const p = problems(bad);
  assert.ok(
    p.some((x) => x.startsWith("name: ")),
    p.join("\n"),
  );
  assert.ok(
    p.some((x) => x.startsWith("scorers[1]")),
    p.join("\n"),
  );
  const cases = `
name: s
scorers: [exact_match]
cases:
  - id: ok
    input: { messages: [{ role: robot, content: hi }] }
    expect: { equals: x }
  - id: two
    input: { messages: [] }
    attributes: { Gender: f }
  - id: three
    input: { messages: [{ role: user, content: hi }] }
    expect: { equals: x }
  - id: three
    input: { messages: [{ role: user, content: hi }] }
    expect: { contains: x }
`;
  const q = problems(cases);
  assert.ok(
    q.some((x) => x.startsWith("cases[0].input.messages[0].role: ")),
    q.join("\n"),
  );
  assert.ok(
    q.some((x) => x.startsWith("cases[1].input.messages: ")),
    q.join("\n"),
  );
  assert.ok(
    q.some((x) => x.startsWith("cases[1].attributes.Gender: ")),
    q.join("\n"),
  );
  assert.ok(q.includes("cases[3].id: duplicate id 'three' (first at cases[2])"), q.join("\n"));
  assert.ok(q.includes("cases[3].expect: exact_match needs expect.equals (a string)"), q.join("\n"));
});

test("fields render through the template; a missing field is named; fields without a template fail", () => {
  assert.deepEqual(renderTemplate("Hi {{ name }}, re {{topic}}", { name: "Ana", topic: 7 }), {
    text: "Hi Ana, re 7",
  });
  const suite = (template: string) => `
name: t
${template}
scorers: [{ kind: label, labels: [a, b] }]
cases:
  - id: one
    input: { fields: { ticket: "x" } }
    expect: { label: a }
`;
  const ok = parseSuite(suite('template: "Ticket: {{ticket}}"'), { baseDir });
  assert.deepEqual(ok.cases[0]!.input, {
    messages: [{ role: "user", content: "Ticket: x" }],
    fields: { ticket: "x" },
  });
  assert.deepEqual(problems(suite('template: "{{ticket}} in {{language}}"')), [
    "cases[0].input.fields: the template needs field 'language', which the case does not have",
  ]);
  assert.deepEqual(problems(suite("")), ["cases[0].input.fields: fields need a `template` on the suite"]);
});

test("casesFile: JSONL lines are cases, problems name the line, and it cannot be combined with cases", () => {
  const text = "name: j\nscorers: [exact_match]\ncasesFile: cases.jsonl\n";
  const good = '{"id":"a","input":{"messages":[{"role":"user","content":"q"}]},"expect":{"equals":"x"}}\n\n';
  const s = parseSuite(text, { baseDir, readText: (p) => (p === "/suites/cases.jsonl" ? good : "") });
  assert.deepEqual(
    s.cases.map((c) => c.id),
    ["a"],
  );
  const file = { "/suites/cases.jsonl": `${good}{"id":"b","input":{}}\nnot json\n` };
  const p = problems(text, file);
  assert.equal(p.length, 2, p.join("\n"));
  assert.match(p[0]!, /^casesFile line 3: input: /);
  assert.match(p[1]!, /^casesFile line 4: not valid JSON/);
  assert.match(problems(text)[0]!, /^casesFile: cannot read cases\.jsonl/);
  assert.deepEqual(problems(`${text}cases: [{}]\n`), [
    "casesFile: give cases inline or a casesFile, not both",
  ]);
  assert.deepEqual(problems("name: n\nscorers: [regex]\n"), [
    "cases: give cases inline or a casesFile (JSONL)",
  ]);
});

test("llm_judge and custom scorers are named in the schema; a YAML syntax error names the line", () => {
  const s = parseSuite(
    `name: j\nscorers:\n  - { kind: llm_judge, model: judge@1.0.0, rubric: "Polite and correct?", passAt: 0.7 }\n  - { kind: custom, module: ./tone.js }\ncases:\n  - { id: a, input: { messages: [{ role: user, content: hi }] } }\n`,
    { baseDir },
  );
  assert.deepEqual(
    s.scorers.map((x) => x.kind),
    ["llm_judge", "custom"],
  );
  assert.ok(
    problems("name: j\nscorers: [custom]\ncases: [{ id: a }]\n").some((x) =>
      x.startsWith("scorers[0].module"),
    ),
  );
  assert.match(problems("name: j\n  bad: [\n")[0]!, /^line \d+: /);
});

test("the example suite for support-assistant loads: 16 cases in en/de with age bands", async () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const s = await loadSuite(path.join(here, "../../../examples/suites/support.yaml"));
  assert.equal(s.name, "support-triage");
  assert.equal(s.cases.length, 16);
  assert.deepEqual([...new Set(s.cases.map((c) => c.attributes.language))].sort(), ["de", "en"]);
  assert.ok(s.cases.every((c) => c.attributes.age_band && c.input.messages.length > 0));
  assert.match(s.cases[0]!.input.messages[0]!.content, /Ticket: I was charged twice/);
  await assert.rejects(loadSuite(path.join(here, "missing.yaml")), /cannot read/);
});

test("examples/suites/triage.yaml is the demo suite the demo commands send (same hash)", async () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const file = await loadSuite(path.join(here, "../../../examples/suites/triage.yaml"));
  const built = parseSuiteObject(demoSuite(), { baseDir: "/" });
  assert.equal(file.cases.length, 960);
  assert.equal(file.hash, built.hash);
  const doc = await readSuiteDocument(path.join(here, "../../../examples/suites/triage.yaml"));
  assert.equal(parseSuiteObject(doc, { baseDir: "/" }).hash, file.hash);
});

test("a JSON Schema that does not compile is refused when the suite is written, naming its field", () => {
  const q = problems(`
name: s
scorers: [{ kind: json_schema, schema: { type: object, propertys: {} } }]
cases:
  - id: a
    input: { messages: [{ role: user, content: hi }] }
  - id: b
    input: { messages: [{ role: user, content: hi }] }
    scorers: [json_schema]
    expect: { schema: { type: object, properties: { at: { type: string, format: when } } } }
`);
  assert.ok(q.includes('scorers[0].schema: unknown keyword: "propertys"'), q.join("\n"));
  const pydanticLike = `
name: s
scorers: [json_schema]
cases:
  - id: a
    input: { messages: [{ role: user, content: hi }] }
    expect:
      schema:
        $defs: { Tag: { enum: [a, b], type: string } }
        properties:
          n: { exclusiveMinimum: 0, type: integer }
          at: { format: date-time, type: string }
          tag: { anyOf: [{ $ref: "#/$defs/Tag" }, { type: "null" }] }
        required: [n]
        type: object
`;
  assert.equal(parseSuite(pydanticLike, { baseDir }).cases.length, 1);
  assert.ok(
    problems(pydanticLike.replace("format: date-time", "format: when")).some((x) =>
      /^cases\[0\]\.expect: unknown format "when"/.test(x),
    ),
  );
});
