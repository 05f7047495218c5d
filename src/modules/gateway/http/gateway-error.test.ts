import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { test } from "node:test";
import { GatewayError } from "./gateway-error.ts";
import { sendError } from "./respond.ts";

/** A response that records what was written. */
function fakeResponse() {
  const out = { status: 0, headers: {} as Record<string, unknown>, body: "" };
  const res = {
    headersSent: false,
    writeHead(status: number, headers: Record<string, unknown>) {
      out.status = status;
      out.headers = headers;
      return res;
    },
    end(text: string) {
      out.body = text;
    },
  };
  return { res: res as unknown as ServerResponse, out };
}

test("a GatewayError is rendered once: problem+json with the field, the request id, its headers, in either dialect", () => {
  const err = new GatewayError(429, "rate limit exceeded for token 'bot'", {
    headers: { "retry-after": "7" },
  });
  assert.equal(err.code, "precondition_failed");
  const openai = fakeResponse();
  sendError(openai.res, "openai", err, { requestId: "req_1", headers: { "x-modelgov-request-id": "req_1" } });
  assert.equal(openai.out.status, 429);
  assert.equal(openai.out.headers["content-type"], "application/problem+json");
  assert.equal(openai.out.headers["retry-after"], "7");
  assert.equal(openai.out.headers["x-modelgov-request-id"], "req_1");
  const body = JSON.parse(openai.out.body);
  assert.equal(body.type, "https://modelgov.dev/problems/precondition-failed");
  assert.deepEqual(body.errors, [{ field: "request", reason: "rate limit exceeded for token 'bot'" }]);
  assert.deepEqual(body.error, {
    type: "rate_limit_exceeded",
    message: "rate limit exceeded for token 'bot'",
    code: "precondition_failed",
  });
  assert.equal(body.request_id, "req_1");

  const anthropic = fakeResponse();
  sendError(
    anthropic.res,
    "anthropic",
    new GatewayError(400, "messages: required", { field: "body.messages" }),
  );
  const a = JSON.parse(anthropic.out.body);
  assert.equal(a.type, "error");
  assert.equal(a.error.type, "invalid_request_error");
  assert.equal(a.errors[0].field, "body.messages");
  assert.equal("requestId" in a, false);
});

test("a status outside the set is `internal`, an api_error", () => {
  const r = fakeResponse();
  const err = new GatewayError(500, "internal error");
  sendError(r.res, "openai", err);
  assert.equal(err.code, "internal");
  assert.equal(JSON.parse(r.out.body).error.type, "api_error");
});
