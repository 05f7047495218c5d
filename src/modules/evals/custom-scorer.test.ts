import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { AppError } from "../../lib/errors.ts";
import { type CustomScoreInput, checkScorerResult, loadCustomScorer } from "./custom-scorer.ts";

let root: string;
let dir: string;

const MODULES: Record<string, string> = {
  "good.mjs": `export default ({ output, expect }) => ({
    score: output === expect.equals ? 1 : 0, reason: "compared " + output });`,
  "async.mjs": `export async function score({ caseId, attributes }) {
    await new Promise((r) => setTimeout(r, 5));
    return { score: 0.5, reason: caseId + "/" + attributes.language };
  }`,
  "throws.mjs": `export default () => { throw new Error("kaputt"); };`,
  "bad-shape.mjs": `export default () => ({ score: 7 });`,
  "not-object.mjs": `export default () => "0.9";`,
  "hangs.mjs": `export default () => new Promise(() => {});`,
  "mutates.mjs": `export default (input) => { input.expect.equals = "changed"; return { score: 1 }; };`,
  "no-fn.mjs": `export const answer = 42;`,
  "counted.mjs": `globalThis.__countedLoads = (globalThis.__countedLoads ?? 0) + 1;
    export default () => ({ score: 1 });`,
};

const input: CustomScoreInput = {
  caseId: "a",
  output: "Paris",
  expect: { equals: "Paris" },
  input: { messages: [{ role: "user", content: "Capital of France?" }] },
  attributes: { language: "en" },
};

before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), "modelgov-scorers-"));
  dir = path.join(root, "scorers");
  mkdirSync(path.join(dir, "sub"), { recursive: true });
  for (const [name, text] of Object.entries(MODULES)) writeFileSync(path.join(dir, name), text);
  writeFileSync(path.join(dir, "sub", "nested.mjs"), "export default () => ({ score: 1 });");
  writeFileSync(path.join(root, "outside.mjs"), "export default () => ({ score: 1 });");
  symlinkSync(path.join(root, "outside.mjs"), path.join(dir, "escape.mjs"));
  symlinkSync(path.join(dir, "counted.mjs"), path.join(dir, "alias.mjs"));
});

after(() => rmSync(root, { recursive: true, force: true }));

/** The AppError loading `module` throws: code and reason. */
async function refusal(d: string | undefined, module: string): Promise<string> {
  try {
    await loadCustomScorer(d, module, { field: "scorers[1].module" });
  } catch (e) {
    assert.ok(e instanceof AppError);
    assert.equal(e.code, "invalid_input");
    assert.equal(e.errors[0]!.field, "scorers[1].module");
    return e.errors[0]!.reason;
  }
  assert.fail(`expected ${module} to be refused`);
}

test("a good module scores; passed defaults to score === 1", async () => {
  const fn = await loadCustomScorer(dir, "./good.mjs");
  assert.deepEqual(await fn(input), { score: 1, passed: true, reason: "compared Paris" });
  assert.deepEqual(await fn({ ...input, output: "Lyon" }), {
    score: 0,
    passed: false,
    reason: "compared Lyon",
  });
});

test("an async named `score` export works; a partial score without `passed` does not pass", async () => {
  const fn = await loadCustomScorer(dir, "./async.mjs");
  assert.deepEqual(await fn(input), { score: 0.5, passed: false, reason: "a/en" });
});

test("a module in a subdirectory loads", async () => {
  const fn = await loadCustomScorer(dir, "./sub/nested.mjs");
  assert.equal((await fn(input)).passed, true);
});

test("a throwing scorer fails the case with the error, it does not reject", async () => {
  const r = await (await loadCustomScorer(dir, "./throws.mjs"))(input);
  assert.equal(r.passed, false);
  assert.equal(r.score, 0);
  assert.match(r.reason, /threw: kaputt/);
});

test("a wrong return shape fails the case naming what is wrong", async () => {
  const r = await (await loadCustomScorer(dir, "./bad-shape.mjs"))(input);
  assert.deepEqual([r.score, r.passed], [0, false]);
  assert.match(r.reason, /outside 0\.\.1/);
  const s = await (await loadCustomScorer(dir, "./not-object.mjs"))(input);
  assert.equal(s.passed, false);
  assert.match(s.reason, /not an object/);
});

test("the result check: passed and reason must have the right types", () => {
  assert.match(checkScorerResult({ score: 1, passed: "yes" }, "./x.mjs").reason, /passed is not a boolean/);
  assert.match(checkScorerResult({ score: 1, reason: 1 }, "./x.mjs").reason, /reason is not a string/);
  assert.match(checkScorerResult({ score: Number.NaN }, "./x.mjs").reason, /not a number/);
  assert.deepEqual(checkScorerResult({ score: 0.4, passed: true }, "./x.mjs"), {
    score: 0.4,
    passed: true,
    reason: "scorer ./x.mjs: score 0.4",
  });
});

test("a hanging scorer resolves as failed after the timeout", async () => {
  const r = await (await loadCustomScorer(dir, "./hangs.mjs", { timeoutMs: 30 }))(input);
  assert.equal(r.passed, false);
  assert.match(r.reason, /did not answer within 30 ms/);
});

test("a scorer that mutates its input does not change the caller's case", async () => {
  const mine = structuredClone(input);
  await (await loadCustomScorer(dir, "./mutates.mjs"))(mine);
  assert.equal(mine.expect.equals, "Paris");
});

test("a module is loaded once per process, also when reached through a symlink", async () => {
  await loadCustomScorer(dir, "./counted.mjs");
  await loadCustomScorer(dir, "./counted.mjs");
  await loadCustomScorer(dir, "./alias.mjs");
  assert.equal((globalThis as { __countedLoads?: number }).__countedLoads, 1);
});

test("refused: disabled server, traversal, absolute path, symlink out, missing file, no function", async () => {
  assert.match(
    await refusal(undefined, "./good.mjs"),
    /custom scorers are disabled.*MODELGOV_EVAL_SCORERS_DIR/,
  );
  assert.match(await refusal(dir, "../outside.mjs"), /outside the server's scorer directory/);
  assert.match(await refusal(dir, "./sub/../../outside.mjs"), /outside the server's scorer directory/);
  assert.match(await refusal(dir, path.join(dir, "good.mjs")), /outside the server's scorer directory/);
  assert.match(await refusal(dir, "./escape.mjs"), /outside the server's scorer directory/);
  assert.match(await refusal(dir, "./missing.mjs"), /no scorer module \.\/missing\.mjs/);
  assert.match(await refusal(dir, "./sub"), /not a file/);
  assert.match(await refusal(dir, "./no-fn.mjs"), /exports no function/);
  assert.match(await refusal(path.join(root, "nope"), "./good.mjs"), /scorer directory cannot be read/);
});

test("the example scorer examples/scorers/polite.mjs follows the contract", async () => {
  const examples = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../../examples/scorers");
  const fn = await loadCustomScorer(examples, "./polite.mjs");
  assert.deepEqual(await fn({ ...input, output: "Sorry for the trouble, the refund is on its way." }), {
    score: 1,
    passed: true,
    reason: "courteous, nothing rude",
  });
  const rude = await fn({ ...input, output: "That is a stupid question." });
  assert.equal(rude.passed, false);
  assert.equal(rude.score, 0);
  assert.match(rude.reason, /no courteous phrase; rude: "stupid"/);
  const off = await fn({ ...input, output: "Paris.", expect: { polite: false } });
  assert.equal(off.passed, true);
});
