import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RoutableVersion } from "../../routing/snapshot.ts";
import { type EntryStart, keepBodies, logEntry } from "./log-entry.ts";

const start: EntryStart = {
  id: "req_1",
  at: "2026-12-07T00:00:00.000Z",
  tokenId: "tok_1",
  client: "bot",
  model: "m",
  routeReason: "alias:production",
  endpoint: "chat.completions",
  stream: false,
  subject: null,
  groups: { region: "eu" },
};
const v = {
  id: "ver_2",
  version: "2.0.0",
  price: { inputPer1kUsd: 1, outputPer1kUsd: 2 },
} as RoutableVersion;
const chat = { model: "m", messages: [{ role: "user", content: "hi" }] };

describe("the request's log row", () => {
  test("a served call names its version, its usage and cost (the price table), and its path", () => {
    const path = [
      {
        versionId: "ver_1",
        version: "1.0.0",
        outcome: "failed",
        reason: "timeout",
        attempts: 2,
        gaveUp: "max_attempts",
        durationMs: 40,
      },
      { versionId: "ver_2", version: "2.0.0", outcome: "served", attempts: 1, durationMs: 10 },
    ] as const;
    const e = logEntry(
      start,
      {
        status: 200,
        errorClass: null,
        servedBy: v,
        path,
        usage: { inputTokens: 1000, outputTokens: 500 },
        upstreamMs: 9,
        bodies: { promptHash: "sha256:p" },
      },
      12.5,
    );
    assert.equal(e.versionId, "ver_2");
    assert.equal(e.version, "2.0.0");
    assert.equal(e.costUsd, 2);
    assert.equal(e.tokensIn, 1000);
    assert.equal(e.upstreamMs, 9);
    assert.equal(e.totalMs, 12.5);
    assert.equal(e.fallbackPath[0]!.versionId, "ver_1");
    assert.equal(e.promptHash, "sha256:p");
    assert.deepEqual(e.groups, { region: "eu" });
  });

  test("a call no version served: no version, no tokens, no cost, the path tried", () => {
    const e = logEntry(
      start,
      {
        status: 503,
        errorClass: "upstream",
        path: [{ versionId: "ver_1", version: "1.0.0", outcome: "skipped", reason: "breaker open" }],
      },
      3,
    );
    assert.deepEqual(
      [e.versionId, e.version, e.tokensIn, e.tokensOut, e.costUsd, e.upstreamMs, e.status],
      [null, null, 0, 0, 0, null, 503],
    );
    assert.equal(e.fallbackPath.length, 1);
    assert.equal("promptHash" in e, false);
  });

  test("bodies: nothing when off, SHA-256 of the messages and the answer when hash, whole when sampled", () => {
    assert.equal(keepBodies({ mode: "off" }, chat, "ok"), undefined);
    // Reference: sha256 of the JSON text of the messages, and of the answer text, by node:crypto.
    assert.deepEqual(keepBodies({ mode: "hash" }, chat, "ok"), {
      promptHash: "sha256:b03d228fdf33e7c81a9a7ea3eadadcf2cdcb98823fe93c669b8f0db42e0fa8a0",
      responseHash: "sha256:2689367b205c16ce32ed4200942b8b8b1e262dfc70d9bc9fbc77c49699a4f1df",
    });
    assert.equal(keepBodies({ mode: "sample", rate: 0 }, chat, "ok"), undefined);
    assert.deepEqual(keepBodies({ mode: "sample", rate: 1 }, chat, "ok"), {
      sampledBody: { request: chat, response: "ok" },
    });
  });

  test("features: derived from the request and the answer when the writer asks, not when the entry is built", () => {
    const answer = { text: "positive", complete: true, toolCalls: 0, refusal: null, finishReason: "stop" };
    const served = logEntry(start, { status: 200, errorClass: null, servedBy: v, path: [], answer }, 1, chat);
    assert.equal(typeof served.features, "function");
    const f = (served.features as () => { label: string | null; script: string; refusal: boolean | null })();
    assert.deepEqual([f.label, f.script, f.refusal], ["positive", "latin", false]);
    // A failed call (a stream cut mid-way) has the request's features and none of its partial answer.
    const cut = logEntry(
      start,
      { status: 502, errorClass: "stream", servedBy: v, path: [], answer },
      1,
      chat,
    );
    const g = (cut.features as () => { label: string | null; refusal: boolean | null })();
    assert.deepEqual([g.label, g.refusal], [null, null]);
    assert.equal(logEntry(start, { status: 200, errorClass: null, path: [] }, 1).features, null);
    // The facts are taken when the call ends: the entry does not hold the request for them.
    const later = { model: "m", messages: [{ role: "user", content: "hi" }] };
    const e = logEntry(start, { status: 200, errorClass: null, servedBy: v, path: [], answer }, 1, later);
    later.messages.push({ role: "user", content: "Привет, как дела?" });
    const h = (e.features as () => { messages: number; script: string })();
    assert.deepEqual([h.messages, h.script], [1, "latin"]);
  });
});
