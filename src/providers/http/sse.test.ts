import assert from "node:assert/strict";
import { test } from "node:test";
import { anthropicSse, OPENAI_SSE_DONE, openAISse, parseSse, type SseEvent } from "./sse.ts";

async function parse(...parts: Array<string | Uint8Array>): Promise<SseEvent[]> {
  async function* source() {
    yield* parts;
  }
  const out: SseEvent[] = [];
  for await (const ev of parseSse(source())) out.push(ev);
  return out;
}

test("events end at a blank line; event names, comments and multi-line data", async () => {
  const events = await parse(
    ": keep-alive\n\nevent: ping\ndata: {}\n\ndata: line one\ndata: line two\nid: 7\n\n",
  );
  assert.deepEqual(events, [
    { event: "ping", data: "{}" },
    { event: undefined, data: "line one\nline two" },
  ]);
});

test("LF, CRLF and CR line ends, with the CRLF split across chunks", async () => {
  const events = await parse("data: a\r", "\n\r", "\ndata: b\r\rdata:c\n\n");
  assert.deepEqual(
    events.map((e) => e.data),
    ["a", "b", "c"],
  );
});

test("a UTF-8 character split across chunks survives", async () => {
  const bytes = new TextEncoder().encode("data: grüß\n\n");
  const events = await parse(bytes.subarray(0, 9), bytes.subarray(9));
  assert.equal(events[0]?.data, "grüß");
});

test("a final event without its blank line still counts; a field without a value is empty", async () => {
  assert.deepEqual(await parse("data\n\ndata: [DONE]"), [
    { event: undefined, data: "" },
    { event: undefined, data: "[DONE]" },
  ]);
});

test("writers produce what the parser reads back", async () => {
  const ev = { type: "message_stop" };
  const events = await parse(anthropicSse(ev), openAISse({ id: "x" }), OPENAI_SSE_DONE);
  assert.deepEqual(events, [
    { event: "message_stop", data: JSON.stringify(ev) },
    { event: undefined, data: '{"id":"x"}' },
    { event: undefined, data: "[DONE]" },
  ]);
});
