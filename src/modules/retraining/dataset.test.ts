import assert from "node:assert/strict";
import { test } from "node:test";
import type { SliceRow } from "../request-log/index.ts";
import { exportLines, openAiLine, rangesOf, suiteCase } from "./dataset.ts";

const w = (from: string, to: string, breached?: boolean) => ({
  from: `2026-03-01T${from}:00Z`,
  to: `2026-03-01T${to}:00Z`,
  ...(breached === undefined ? {} : { breached }),
});

const row = (o: Partial<SliceRow> = {}): SliceRow => ({
  id: "req_1",
  at: new Date("2026-03-01T09:00:00Z"),
  versionId: "ver_a",
  answeredBy: "ver_a",
  groups: null,
  sampledBody: { request: { messages: [{ role: "user", content: "hi" }] } },
  success: false,
  score: null,
  labels: [],
  comment: "",
  correction: "hello",
  ...o,
});

test("ranges: the breached windows per version, overlapping and touching ones merged; all windows when none is flagged", () => {
  const ranges = rangesOf([
    { versionId: "ver_a", evidence: { windows: [w("09:00", "10:00", true), w("10:00", "11:00", false)] } },
    { versionId: "ver_a", evidence: { windows: [w("09:30", "10:30", true), w("12:00", "13:00", true)] } },
    { versionId: "ver_b", evidence: { windows: [w("09:00", "10:00"), w("10:00", "11:00")] } },
  ]);
  assert.deepEqual(
    ranges.map((r) => [r.versionId, r.from.toISOString().slice(11, 16), r.to.toISOString().slice(11, 16)]),
    [
      ["ver_a", "09:00", "10:30"],
      ["ver_a", "12:00", "13:00"],
      ["ver_b", "09:00", "11:00"],
    ],
  );
});

test("openai line: only messages; the correction is the last assistant turn; no correction leaves it to label", () => {
  assert.deepEqual(JSON.parse(openAiLine(row())!), {
    messages: [
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello" },
    ],
  });
  assert.deepEqual(JSON.parse(openAiLine(row({ correction: null }))!), {
    messages: [{ role: "user", content: "hi" }],
  });
  // Keys OpenAI does not know are dropped from a message; a body without chat messages yields nothing.
  const extra = row({
    sampledBody: { request: { messages: [{ role: "user", content: "x", cache: true }] } },
  });
  assert.deepEqual(JSON.parse(openAiLine(extra)!).messages[0], { role: "user", content: "x" });
  assert.equal(openAiLine(row({ sampledBody: { request: { prompt: "x" } } })), null);
  assert.equal(openAiLine(row({ sampledBody: { request: { messages: ["x"] } } })), null);
});

test("suite case: text turns only (developer as system), the correction expected, groups as attributes", () => {
  const c = suiteCase(
    row({
      id: "req/7 with spaces",
      groups: { language: "de", "Bad Key": "x", age_band: "65+" },
      sampledBody: {
        request: {
          messages: [
            { role: "developer", content: "Be brief." },
            {
              role: "user",
              content: [{ type: "text", text: "a" }, { type: "image_url" }, { type: "text", text: "b" }],
            },
          ],
        },
      },
    }),
  );
  assert.deepEqual(c, {
    id: "req-req_7_with_spaces",
    input: {
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "a\nb" },
      ],
    },
    expect: { equals: "hello" },
    attributes: { language: "de", age_band: "65+" },
  });
  assert.equal(suiteCase(row({ correction: null })), null);
  const tool = { request: { messages: [{ role: "tool", content: "x", tool_call_id: "t" }] } };
  assert.equal(suiteCase(row({ sampledBody: tool })), null);
  const imageOnly = { request: { messages: [{ role: "user", content: [{ type: "image_url" }] }] } };
  assert.equal(suiteCase(row({ sampledBody: imageOnly })), null);
});

test("a suite export with no case is still one JSON document, its description tallying why", async () => {
  async function* rows() {
    yield row({ correction: null });
    yield row({ id: "req_2", sampledBody: { request: { messages: [{ role: "tool", content: "x" }] } } });
  }
  let text = "";
  for await (const l of exportLines(rows(), {
    format: "suite",
    include: "corrected",
    suiteName: "s",
    describe: (t) => `${t.exported}/${t.uncorrected}/${t.unrepresentable}`,
  }))
    text += l;
  assert.deepEqual(JSON.parse(text), {
    name: "s",
    scorers: [{ kind: "exact_match", trim: true, caseInsensitive: true }],
    cases: [],
    description: "0/1/1",
  });
});
