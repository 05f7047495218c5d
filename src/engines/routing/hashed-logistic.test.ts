import assert from "node:assert/strict";
import { test } from "node:test";
import {
  featurize,
  fnv1a32,
  predictHashedLogistic,
  TrainingError,
  trainHashedLogistic,
} from "./hashed-logistic.ts";

const EXAMPLES = [
  ["what are your opening hours", "cheap"],
  ["where is my order", "cheap"],
  ["reset my password please", "cheap"],
  ["thanks that helps", "cheap"],
  ["explain why the proof of the lemma fails for n equal zero", "strong"],
  ["compare the two designs and derive the trade offs", "strong"],
  ["prove the bound step by step", "strong"],
  ["design a lock free queue and explain why it is correct", "strong"],
  ["my invoice shows a vat error for germany", "tax"],
  ["which vat rate applies to ebooks in france", "tax"],
  ["can i reclaim vat on a refund", "tax"],
].map(([text, label]) => ({ text: text!, label: label! }));
const TESTS = ["why is my vat wrong", "opening hours on sunday", "prove the design is correct", "hello"];

test("FNV-1a 32: the published test vectors", () => {
  // http://www.isthe.com/chongo/src/fnv/test_fnv.c
  assert.equal(fnv1a32(""), 0x811c9dc5);
  assert.equal(fnv1a32("a"), 0xe40c292c);
  assert.equal(fnv1a32("foobar"), 0xbf9cf968);
});

test("features: lower-cased words and bigrams, log counts, unit length", () => {
  const v = featurize("Tax tax, VAT!", 2 ** 18, 2);
  // tax (twice), vat; "tax tax", "tax vat"
  assert.equal(v.size, 4);
  assert.ok(Math.abs([...v.values()].reduce((a, x) => a + x * x, 0) - 1) < 1e-12);
  const tax = v.get(fnv1a32("tax") % 2 ** 18)!;
  const vat = v.get(fnv1a32("vat") % 2 ** 18)!;
  assert.ok(Math.abs(tax / vat - Math.log1p(2) / Math.log1p(1)) < 1e-12);
  assert.equal(featurize("... !!", 64, 2).size, 0);
  assert.equal(featurize("one two", 2 ** 18, 1).size, 2);
});

// Reference: the same features and objective minimised by scipy 1.17 (L-BFGS-B, gtol 1e-12),
// biases centred: scripts/reference/hashed-logistic.py.
const REFERENCE = [
  {
    opts: { buckets: 64, ngrams: 2 as const, l2: 1 },
    loss: 9.047368202473,
    bias: [0.262561514, -0.041475539, -0.221085975],
    p: [
      [0.435496538, 0.236874213, 0.327629249],
      [0.397166798, 0.31845876, 0.284374442],
      [0.299183088, 0.470732776, 0.230084137],
      [0.477100274, 0.304820407, 0.218079319],
    ],
  },
  {
    opts: { buckets: 2 ** 18, ngrams: 2 as const, l2: 0.5 },
    loss: 7.458203327945,
    bias: [0.157242259, 0.07357821, -0.230820469],
    p: [
      [0.429981023, 0.29381711, 0.276201866],
      [0.469705373, 0.284789848, 0.245504779],
      [0.278418898, 0.543149203, 0.178431899],
      [0.384895177, 0.354003564, 0.26110126],
    ],
  },
  {
    opts: { buckets: 2 ** 18, ngrams: 1 as const, l2: 2 },
    loss: 10.151575007228,
    bias: [0.129495728, 0.079424811, -0.20892054],
    p: [
      [0.382744969, 0.328540748, 0.288714283],
      [0.408875408, 0.323363341, 0.267761251],
      [0.323931037, 0.454993656, 0.221075307],
      [0.375366859, 0.357034681, 0.26759846],
    ],
  },
];

test("training reaches scipy's optimum of the penalised log-loss: the loss, the biases and the probabilities", () => {
  for (const ref of REFERENCE) {
    const { model, report } = trainHashedLogistic(EXAMPLES, { ...ref.opts, tolerance: 1e-9 });
    assert.equal(report.converged, true, JSON.stringify(report));
    assert.deepEqual(model.classes, ["cheap", "strong", "tax"]);
    assert.ok(Math.abs(report.loss - ref.loss) < 1e-8, `loss ${report.loss} vs ${ref.loss}`);
    for (const [k, b] of model.bias.entries())
      assert.ok(Math.abs(b - ref.bias[k]!) < 1e-6, `bias ${b} vs ${ref.bias[k]}`);
    TESTS.forEach((t, i) => {
      const { probabilities } = predictHashedLogistic(model, t);
      for (const [k, c] of model.classes.entries())
        assert.ok(
          Math.abs(probabilities[c]! - ref.p[i]![k]!) < 1e-6,
          `${t}: ${c} ${probabilities[c]} vs ${ref.p[i]![k]}`,
        );
    });
  }
});

test("a light penalty fits the training cases; the model holds only the buckets the cases touched", () => {
  const { model } = trainHashedLogistic(EXAMPLES, { l2: 0.01 });
  for (const e of EXAMPLES) assert.equal(predictHashedLogistic(model, e.text).label, e.label, e.text);
  const touched = new Set(EXAMPLES.flatMap((e) => [...featurize(e.text, 2 ** 18, 2).keys()]));
  assert.equal(Object.keys(model.weights).length, touched.size);
  // The same cases give the same model, to the bit (a version's digest covers it).
  assert.deepEqual(trainHashedLogistic(EXAMPLES, { l2: 0.01 }).model, model);
});

test("what cannot be trained is refused with the reason", () => {
  assert.throws(() => trainHashedLogistic([{ text: "a", label: "x" }]), TrainingError);
  assert.throws(() => trainHashedLogistic(EXAMPLES, { l2: 0 }), /l2 must be positive/);
  assert.throws(() => trainHashedLogistic(EXAMPLES, { buckets: 1 }), /buckets/);
});

test("FNV-1a over UTF-8 without a buffer: the same as hashing TextEncoder's bytes, for any text", () => {
  const bytesHash = (s: string) => {
    let h = 0x811c9dc5;
    for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, 0x01000193);
    return h >>> 0;
  };
  for (const s of [
    "",
    "a",
    "tax vat",
    "Größe",
    "日本語のテキスト",
    "emoji 😀 ok",
    "lone \ud800 surrogate",
    "end \udc00",
  ])
    assert.equal(fnv1a32(s), bytesHash(s), s);
  // A bigram's bucket is the hash of "a b" itself.
  const v = featurize("alpha beta", 2 ** 18, 2);
  assert.ok(v.has(fnv1a32("alpha beta") % 2 ** 18));
});
