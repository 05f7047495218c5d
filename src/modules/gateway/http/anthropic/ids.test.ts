import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { messageIdFor, requestIdOfMessageId, toolUseIdFor } from "./ids.ts";

describe("Anthropic-shaped ids", () => {
  test("a message id is msg_ and base62, and decodes to the request id", () => {
    const requestId = "req_3f9a1c2b7d4e00001z";
    const id = messageIdFor("chatcmpl-sim-req_3f9a1c2b7d4e00001z", requestId);
    assert.match(id, /^msg_[0-9A-Za-z]{24,26}$/);
    assert.equal(requestIdOfMessageId(id), requestId);
    // Distinct requests, distinct ids; the same request, the same id.
    assert.notEqual(messageIdFor(undefined, "req_3f9a1c2b7d4e000020"), id);
    assert.equal(messageIdFor(undefined, requestId), id);
  });

  test("Anthropic's own msg_ id is kept; it decodes to no request id", () => {
    assert.equal(messageIdFor("msg_01XFDUDYJgAACzvnptvVoYEL", "req_x"), "msg_01XFDUDYJgAACzvnptvVoYEL");
    assert.equal(requestIdOfMessageId("msg_01XFDUDYJgAACzvnptvVoYEL"), undefined);
    assert.equal(requestIdOfMessageId("chatcmpl-123"), undefined);
    assert.equal(requestIdOfMessageId("msg_not-base62"), undefined);
  });

  test("tool_use ids: toolu_ kept, others prefixed into Anthropic's alphabet, a missing one numbered", () => {
    assert.equal(toolUseIdFor("toolu_01A09q90qw90lq917835lq9", 0), "toolu_01A09q90qw90lq917835lq9");
    assert.equal(toolUseIdFor("call_abc123", 1), "toolu_call_abc123");
    assert.equal(toolUseIdFor("fc.1:2", 1), "toolu_fc_1_2");
    assert.equal(toolUseIdFor(undefined, 3), "toolu_3");
    assert.equal(toolUseIdFor("", 2), "toolu_2");
  });
});
