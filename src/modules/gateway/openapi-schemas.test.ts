import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { test } from "node:test";
import type { z } from "@hono/zod-openapi";
import { fixtureJson } from "../../providers/translate/fixture-files.ts";
import { GatewayError } from "./http/gateway-error.ts";
import { sendError } from "./http/respond.ts";
import {
  ChatCompletion,
  ChatCompletionRequest,
  GatewayErrorBody,
  Message,
  MessageRequest,
} from "./openapi-schemas.ts";

/** The problems zod finds, as `path: message` lines (empty when the value fits the schema). */
const misfits = (schema: z.ZodType, value: unknown) => {
  const r = schema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

// The recorded wire payloads (src/providers/translate/fixtures, from each provider's documented
// examples) fit what the document says, so a generated client accepts the real thing.
test("OpenAI's recorded chat request and answers fit the documented schemas", () => {
  assert.deepEqual(misfits(ChatCompletionRequest, fixtureJson("openai-request-tools.json")), []);
  for (const name of ["openai-response-tool-calls.json", "openai-response-from-tool-use.json"])
    assert.deepEqual(misfits(ChatCompletion, fixtureJson(name)), [], name);
});

test("Anthropic's recorded messages request and answers fit the documented schemas", () => {
  assert.deepEqual(misfits(MessageRequest, fixtureJson("anthropic-request-tools.json")), []);
  for (const name of ["anthropic-response-tool-use.json", "anthropic-response-text-cached.json"])
    assert.deepEqual(misfits(Message, fixtureJson(name)), [], name);
});

test("the documented required fields are enforced: a request without them does not fit", () => {
  assert.ok(misfits(ChatCompletionRequest, { model: "m" }).some((m) => m.startsWith("messages")));
  assert.ok(
    misfits(MessageRequest, { model: "m", messages: [{ role: "user", content: "hi" }] }).some((m) =>
      m.startsWith("max_tokens"),
    ),
  );
});

test("the gateway's error answers, in both dialects, fit the documented GatewayError", () => {
  for (const dialect of ["openai", "anthropic"] as const) {
    let body = "";
    const res = { headersSent: false, writeHead: () => res, end: (t: string) => (body = t) };
    sendError(
      res as unknown as ServerResponse,
      dialect,
      new GatewayError(400, "model: required", { field: "body.model" }),
      { requestId: "req_1" },
    );
    const parsed = JSON.parse(body);
    assert.deepEqual(misfits(GatewayErrorBody.strict(), parsed), [], dialect);
    assert.equal(parsed.errors[0].field, "body.model");
  }
});
