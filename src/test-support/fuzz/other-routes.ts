/**
 * The routes outside the OpenAPI document: the gateway's request shapes (the gateway has no
 * schema of its own: these are the fields it reads) and the probes, metrics and console paths.
 */
import fc from "fast-check";
import type { FuzzRequest } from "./requests.ts";
import type { Schema } from "./values.ts";

/** POST /v1/chat/completions: the OpenAI fields the gateway reads (it has no schema of its own). */
export const ChatSchema: Schema = {
  type: "object",
  required: ["model", "messages"],
  properties: {
    model: {
      type: "string",
      enum: ["fuzz-chat", "fuzz-chat@production", "fuzz-chat@1.0.0", "nope", "fuzz-chat@9.9.9"],
    },
    messages: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["role", "content"],
        properties: {
          role: { type: "string", enum: ["system", "user", "assistant", "tool", "developer"] },
          content: {
            anyOf: [
              { type: "string" },
              {
                type: "array",
                items: { type: "object", properties: { type: { const: "text" }, text: { type: "string" } } },
              },
              { type: "null" },
            ],
          },
        },
      },
    },
    stream: { type: "boolean" },
    temperature: { type: "number", minimum: 0, maximum: 2 },
    max_tokens: { type: "integer", minimum: 1, maximum: 4096 },
    user: { type: "string" },
    n: { type: "integer", minimum: 1, maximum: 2 },
    stop: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
    tools: {
      type: "array",
      items: {
        type: "object",
        properties: {
          type: { const: "function" },
          function: { type: "object", properties: { name: { type: "string" } } },
        },
      },
    },
  },
};

/** POST /v1/messages: the Anthropic fields the translation reads. */
export const MessagesSchema: Schema = {
  type: "object",
  required: ["model", "messages", "max_tokens"],
  properties: {
    model: ChatSchema.properties.model,
    max_tokens: { type: "integer", minimum: 1, maximum: 4096 },
    system: {
      anyOf: [
        { type: "string" },
        {
          type: "array",
          items: { type: "object", properties: { type: { const: "text" }, text: { type: "string" } } },
        },
      ],
    },
    messages: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["role", "content"],
        properties: {
          role: { type: "string", enum: ["user", "assistant"] },
          content: {
            anyOf: [
              { type: "string" },
              {
                type: "array",
                items: {
                  anyOf: [
                    {
                      type: "object",
                      required: ["type", "text"],
                      properties: { type: { const: "text" }, text: { type: "string" } },
                    },
                    {
                      type: "object",
                      required: ["type", "id", "name", "input"],
                      properties: {
                        type: { const: "tool_use" },
                        id: { type: "string" },
                        name: { type: "string" },
                        input: { type: "object" },
                      },
                    },
                    {
                      type: "object",
                      required: ["type", "tool_use_id"],
                      properties: {
                        type: { const: "tool_result" },
                        tool_use_id: { type: "string" },
                        content: { type: "string" },
                      },
                    },
                    {
                      type: "object",
                      required: ["type", "source"],
                      properties: {
                        type: { const: "image" },
                        source: {
                          type: "object",
                          properties: {
                            type: { const: "base64" },
                            media_type: { type: "string" },
                            data: { type: "string" },
                          },
                        },
                      },
                    },
                  ],
                },
              },
            ],
          },
        },
      },
    },
    stream: { type: "boolean" },
    temperature: { type: "number", minimum: 0, maximum: 1 },
    stop_sequences: { type: "array", items: { type: "string" } },
    metadata: { type: "object", properties: { user_id: { type: "string" } } },
  },
};

/** Requests outside the API and the gateway: probes, metrics, console pages and assets, odd methods. */
export function otherRequests(admin: string): fc.Arbitrary<FuzzRequest> {
  const paths = fc.oneof(
    fc.constantFrom(
      "/healthz",
      "/readyz",
      "/metrics",
      "/",
      "/registry",
      "/assets/app-1.js",
      "/api/v1/openapi.json",
      "/api/v1",
      "/api",
      "/v1",
      "/v1/",
      "/v1/embeddings",
    ),
    fc.constantFrom(
      "/assets/",
      "/assets/..%2F..%2Fetc%2Fpasswd",
      "/assets/%00",
      "/assets/%ED%A0%80.js",
      "/assets/a%",
      "//",
      "/%",
      "/api/v1/%",
      "/v1/chat/completions/../models",
      "/metrics/%00",
    ),
    fc
      .string({ unit: "binary", maxLength: 20 })
      .map((s) => `/${encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, "x"))}`),
  );
  return fc
    .tuple(
      paths,
      fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"),
      fc.boolean(),
      fc.option(fc.constantFrom("{", "{}", "\u0000"), { freq: 3 }),
    )
    .map(([url, method, auth, body]) => {
      const headers: Record<string, string> = auth ? { authorization: admin } : {};
      const r: FuzzRequest = { method, url, headers };
      if (body !== null && method !== "GET" && method !== "HEAD") {
        r.body = body;
        headers["content-type"] = "application/json";
      }
      return r;
    });
}
