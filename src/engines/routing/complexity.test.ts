import assert from "node:assert/strict";
import { test } from "node:test";
import { type ComplexityInput, complexityScore, complexitySignals } from "./complexity.ts";

const input = (text: string, over: Partial<ComplexityInput> = {}): ComplexityInput => ({
  text,
  tokensIn: Math.ceil(text.length / 4),
  turns: 1,
  toolsOffered: 0,
  ...over,
});
const score = (text: string, over: Partial<ComplexityInput> = {}) =>
  complexityScore(complexitySignals(input(text, over)));

test("signals: code, mathematics, questions, reasoning words, constraints, tools, size and turns", () => {
  const s = complexitySignals(
    input("Why does this fail?\n```ts\nconst x = f();\n```\nProve that \\frac{a}{b} holds. What if n = 0?", {
      toolsOffered: 2,
      turns: 3,
    }),
  );
  assert.deepEqual(
    { code: s.code, maths: s.maths, questions: s.questions, reasoning: s.reasoning, tools: s.tools },
    { code: 1, maths: 1, questions: 2, reasoning: 3, tools: 1 },
  );
  assert.equal(s.turns, 2);
  // Code without a fence: three lines that read as code.
  assert.equal(complexitySignals(input("def f(x):\n    return x\nclass A:\n  pass;")).code, 1);
  assert.equal(
    complexitySignals(input("I will return the parcel tomorrow.")).code,
    0,
    "one code-like word is not code",
  );
  // Maths without LaTeX: several operations between numbers.
  assert.equal(complexitySignals(input("Is 3 + 4 = 7 and 12 / 4 = 3?")).maths, 1);
  assert.equal(complexitySignals(input("Order 2 pizzas.")).maths, 0);
  assert.equal(
    complexitySignals(input("1. Use at least 3 sources\n2. Must cite them\n3. Without jargon")).constraints,
    6,
  );
  assert.equal(complexitySignals(input("????????")).questions, 4, "capped");
  assert.equal(complexitySignals(input("", { tokensIn: 1023 })).size, 10);
});

test("scores: a one-line question is simple, a multi-part reasoning task with code is complex; more of anything scores higher", () => {
  const simple = score("What are your opening hours?");
  const complex = score(
    "Compare these two implementations and explain why the second deadlocks under load. " +
      "Design a fix that must keep the API, without adding locks.\n```go\nmu.Lock()\ndefer mu.Unlock()\n```\n" +
      "What are the trade-offs? Prove the fix is free of races step by step.",
    { tokensIn: 900, turns: 4 },
  );
  assert.ok(simple < 0.2, `simple ${simple}`);
  assert.ok(complex > 0.8, `complex ${complex}`);
  assert.ok(score("Hello", { tokensIn: 2000 }) > score("Hello", { tokensIn: 20 }));
  assert.ok(score("Hello", { toolsOffered: 1 }) > score("Hello"));
  assert.ok(score("Explain why") > score("Hello there"));
  for (const x of [simple, complex]) assert.ok(x > 0 && x < 1);
  // The weights are the caller's to change: all zero but the bias gives the logistic of the bias.
  const zero = {
    bias: 0,
    size: 0,
    turns: 0,
    code: 0,
    maths: 0,
    questions: 0,
    reasoning: 0,
    constraints: 0,
    tools: 0,
  };
  assert.equal(complexityScore(complexitySignals(input("anything")), zero), 0.5);
});
