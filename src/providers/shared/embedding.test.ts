import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PROVIDERS } from "../registrations.ts";
import { estimateInputTokens, fromFloat32Base64, isEmbeddingVersion, toFloat32Base64 } from "./embedding.ts";

describe("embedding helpers", () => {
  test("base64 is float32 little-endian (reference: Python base64.b64encode(struct.pack('<3f', 1, -2, 0.5)))", () => {
    assert.equal(toFloat32Base64([1, -2, 0.5]), "AACAPwAAAMAAAAA/");
    assert.deepEqual(fromFloat32Base64("AACAPwAAAMAAAAA/"), [1, -2, 0.5]);
    // A value float32 cannot hold comes back as its nearest float32.
    assert.deepEqual(fromFloat32Base64(toFloat32Base64([0.1])), [Math.fround(0.1)]);
    assert.equal(fromFloat32Base64("AAE="), null, "two bytes are not a float32");
  });

  test("an embedding version is one whose parameters carry an `embedding` object", () => {
    assert.equal(isEmbeddingVersion({ embedding: { dimensions: 8 } }), true);
    assert.equal(isEmbeddingVersion({ embedding: {} }), true);
    assert.equal(isEmbeddingVersion({ temperature: 0.2 }), false);
    assert.equal(isEmbeddingVersion({ embedding: true }), false);
  });

  test("input tokens: a token array counts itself, text about four characters a token", () => {
    assert.equal(estimateInputTokens(["abcdefgh", [1, 2, 3], "a"]), 2 + 3 + 1);
  });
});

describe("registering an embedding version", () => {
  test("simulator: the dimensions default to 256 and are stored; an unknown key inside is refused", () => {
    const ok = PROVIDERS.simulator!.parameters.safeParse({ embedding: {} });
    assert.equal(ok.success, true);
    assert.deepEqual((ok.data as { embedding: unknown }).embedding, { dimensions: 256 });
    const bad = PROVIDERS.simulator!.parameters.safeParse({ embedding: { dims: 3 } });
    assert.equal(bad.success, false);
  });

  test("openai-compatible takes `embedding.dimensions`; Anthropic refuses `embedding`, naming it", () => {
    assert.equal(
      PROVIDERS["openai-compatible"]!.parameters.safeParse({ embedding: { dimensions: 1536 } }).success,
      true,
    );
    assert.equal(PROVIDERS.openai!.parameters.safeParse({ embedding: { dimensions: 0 } }).success, false);
    const a = PROVIDERS.anthropic!.parameters.safeParse({ embedding: {} });
    assert.equal(a.success, false);
    assert.deepEqual(a.error?.issues[0]?.path, ["embedding"]);
    assert.match(a.error?.issues[0]?.message ?? "", /Anthropic has no embeddings API/);
  });
});
