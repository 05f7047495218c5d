import type { ChatRequest, Json } from "../types.ts";
import { TranslateInputError } from "./input-error.ts";
import type { OpenAIContentPart, OpenAIMessage, OpenAITool, OpenAIToolChoice } from "./openai-types.ts";

/*
 * OpenAI Responses API request (POST /v1/responses) → the canonical Chat Completions request.
 * Only what maps onto a stateless chat call is read; everything else is refused by name
 * rather than dropped, so a client never believes a field took effect when it did not.
 */

/** Fields refused with the reason a client most needs (the rest of the unknown ones get a generic one). */
const REFUSED: Record<string, string> = {
  previous_response_id:
    "modelgov keeps no responses, so a conversation cannot continue from one: send the whole conversation in input",
  conversation: "modelgov keeps no conversations: send the whole conversation in input",
  background: "background responses are not supported: send the request and wait, or stream it",
  include: "no extra output (reasoning, logprobs, tool sources) can be included",
  prompt: "stored prompt templates are not supported: send instructions and input",
  reasoning: "reasoning options are not supported",
  max_tool_calls: "not supported: the gateway makes no tool calls itself",
  top_logprobs: "logprobs are not supported",
  service_tier: "not supported",
  prompt_cache_key: "not supported",
  safety_identifier: "not supported: send user (or the x-modelgov-subject header)",
  stream_options: "not supported on /v1/responses",
};

const KNOWN = new Set([
  "model",
  "input",
  "instructions",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "max_output_tokens",
  "temperature",
  "top_p",
  "text",
  "metadata",
  "user",
  "stream",
  "store",
  "truncation",
]);

const MESSAGE_ROLES = new Set(["user", "system", "developer", "assistant"]);

const fail = (field: string, reason: string): never => {
  throw new TranslateInputError(field, reason);
};

const isObject = (v: unknown): v is Json => !!v && typeof v === "object" && !Array.isArray(v);

/** A Responses request body as the canonical chat request; a field it cannot honour throws TranslateInputError. */
export function responsesToChatRequest(body: Json): ChatRequest {
  for (const [k, v] of Object.entries(body)) {
    if (v === undefined || v === null || KNOWN.has(k)) continue;
    // Asking for nothing extra is what the gateway does anyway.
    if (k === "include" && Array.isArray(v) && v.length === 0) continue;
    fail(k, REFUSED[k] ?? "not supported by the modelgov gateway's /v1/responses");
  }
  if (body.store === true)
    fail(
      "store",
      "modelgov does not store responses (nothing to retrieve later): send store: false or omit it",
    );
  if (body.truncation != null && body.truncation !== "disabled")
    fail("truncation", "only 'disabled' is supported: the gateway does not trim a conversation");

  const messages: OpenAIMessage[] = [];
  if (body.instructions != null) {
    if (typeof body.instructions !== "string") fail("instructions", "must be a string");
    messages.push({ role: "system", content: body.instructions as string });
  }
  const input = body.input;
  if (typeof input === "string") messages.push({ role: "user", content: input });
  else if (Array.isArray(input))
    for (const [i, item] of input.entries()) addItem(messages, item, `input.${i}`);
  else fail("input", "required, a string or an array of input items");
  if (messages.length === 0 || (Array.isArray(input) && input.length === 0))
    fail("input", "must not be empty");

  const out: ChatRequest = { model: body.model as string, messages: messages as Json[] };
  if (body.max_output_tokens != null) {
    const n = body.max_output_tokens;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1)
      fail("max_output_tokens", "must be a positive integer");
    out.max_tokens = n;
  }
  for (const k of ["temperature", "top_p"] as const) {
    if (body[k] == null) continue;
    if (typeof body[k] !== "number") fail(k, "must be a number");
    out[k] = body[k];
  }
  if (body.tools != null) {
    const tools = toolsOf(body.tools);
    if (tools.length > 0) out.tools = tools;
  }
  if (body.tool_choice != null) out.tool_choice = toolChoiceOf(body.tool_choice);
  if (body.parallel_tool_calls != null) {
    if (typeof body.parallel_tool_calls !== "boolean") fail("parallel_tool_calls", "must be a boolean");
    out.parallel_tool_calls = body.parallel_tool_calls;
  }
  if (body.text != null) {
    const format = responseFormatOf(body.text);
    if (format) out.response_format = format;
  }
  if (body.metadata != null) {
    if (!isObject(body.metadata)) fail("metadata", "must be an object of string values");
    out.metadata = body.metadata;
  }
  if (body.user != null) {
    if (typeof body.user !== "string") fail("user", "must be a string");
    out.user = body.user;
  }
  if (body.stream === true) {
    out.stream = true;
    // response.completed carries usage, so the upstream must report it.
    out.stream_options = { include_usage: true };
  }
  return out;
}

/** One input item: a message, a function call the model made, or its output. */
function addItem(messages: OpenAIMessage[], item: unknown, at: string) {
  if (!isObject(item))
    return fail(at, "must be an object (a message, function_call or function_call_output)");
  const type = item.type ?? (item.role !== undefined ? "message" : undefined);
  switch (type) {
    case "message": {
      const role = item.role;
      if (typeof role !== "string" || !MESSAGE_ROLES.has(role))
        return fail(`${at}.role`, `must be one of ${[...MESSAGE_ROLES].join(", ")}`);
      messages.push({
        role: role as OpenAIMessage["role"],
        content: contentOf(item.content, `${at}.content`),
      });
      return;
    }
    case "function_call": {
      const { call_id, name, arguments: args } = item;
      if (typeof call_id !== "string" || !call_id) return fail(`${at}.call_id`, "required, a string");
      if (typeof name !== "string" || !name) return fail(`${at}.name`, "required, a string");
      if (typeof args !== "string") return fail(`${at}.arguments`, "required, a JSON string");
      const call = { id: call_id, type: "function" as const, function: { name, arguments: args } };
      // Consecutive calls are one assistant turn in Chat Completions (parallel tool calls).
      const prev = messages[messages.length - 1];
      if (prev?.role === "assistant" && (prev.tool_calls || !prev.content))
        prev.tool_calls = [...(prev.tool_calls ?? []), call];
      else messages.push({ role: "assistant", content: null, tool_calls: [call] });
      return;
    }
    case "function_call_output": {
      const { call_id, output } = item;
      if (typeof call_id !== "string" || !call_id) return fail(`${at}.call_id`, "required, a string");
      const text =
        typeof output === "string"
          ? output
          : Array.isArray(output)
            ? textParts(output, `${at}.output`)
            : fail(`${at}.output`, "required, a string or an array of input_text parts");
      messages.push({ role: "tool", tool_call_id: call_id, content: text });
      return;
    }
    default:
      return fail(
        `${at}.type`,
        `'${String(type)}' items are not supported: send message, function_call or function_call_output items`,
      );
  }
}

function contentOf(content: unknown, at: string): string | OpenAIContentPart[] {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return fail(at, "required, a string or an array of content parts");
  return content.map((p, j): OpenAIContentPart => {
    const where = `${at}.${j}`;
    if (!isObject(p)) return fail(where, "must be an object with a type");
    switch (p.type) {
      case "input_text":
      case "output_text":
        if (typeof p.text !== "string") return fail(`${where}.text`, "required, a string");
        return { type: "text", text: p.text };
      case "refusal":
        if (typeof p.refusal !== "string") return fail(`${where}.refusal`, "required, a string");
        return { type: "text", text: p.refusal };
      case "input_image":
        if (typeof p.image_url !== "string")
          return fail(
            `${where}.image_url`,
            "required: an image URL or data URL (file ids are not supported)",
          );
        return {
          type: "image_url",
          image_url: { url: p.image_url, ...(typeof p.detail === "string" ? { detail: p.detail } : {}) },
        };
      default:
        return fail(
          `${where}.type`,
          `'${String(p.type)}' parts are not supported: send input_text, output_text or input_image`,
        );
    }
  });
}

function textParts(parts: unknown[], at: string): string {
  return parts
    .map((p, j) =>
      isObject(p) && p.type === "input_text" && typeof p.text === "string"
        ? p.text
        : fail(`${at}.${j}`, "only input_text parts are supported in a function call's output"),
    )
    .join("\n");
}

function toolsOf(tools: unknown): OpenAITool[] {
  if (!Array.isArray(tools)) return fail("tools", "must be an array of function tools");
  return tools.map((t, i): OpenAITool => {
    if (!isObject(t)) return fail(`tools.${i}`, "must be an object");
    if (t.type !== "function")
      return fail(
        `tools.${i}.type`,
        `built-in tool '${String(t.type)}' is not supported: only function tools ({type: "function", name, parameters})`,
      );
    if (typeof t.name !== "string" || !t.name) return fail(`tools.${i}.name`, "required, a string");
    const fn: OpenAITool["function"] = { name: t.name };
    if (typeof t.description === "string") fn.description = t.description;
    if (isObject(t.parameters)) fn.parameters = t.parameters;
    if (typeof t.strict === "boolean") fn.strict = t.strict;
    return { type: "function", function: fn };
  });
}

function toolChoiceOf(c: unknown): OpenAIToolChoice {
  if (c === "auto" || c === "none" || c === "required") return c;
  if (isObject(c) && c.type === "function" && typeof c.name === "string")
    return { type: "function", function: { name: c.name } };
  return fail("tool_choice", `must be "auto", "none", "required" or {type: "function", name}`);
}

function responseFormatOf(text: unknown): Json | undefined {
  if (!isObject(text)) return fail("text", "must be an object");
  for (const k of Object.keys(text))
    if (k !== "format" && text[k] != null) fail(`text.${k}`, "not supported (only text.format)");
  const f = text.format;
  if (f == null) return undefined;
  if (!isObject(f)) return fail("text.format", "must be an object");
  switch (f.type) {
    case "text":
      return undefined;
    case "json_object":
      return { type: "json_object" };
    case "json_schema": {
      if (typeof f.name !== "string" || !f.name) return fail("text.format.name", "required, a string");
      if (!isObject(f.schema)) return fail("text.format.schema", "required, a JSON Schema object");
      const json_schema: Json = { name: f.name, schema: f.schema };
      if (typeof f.description === "string") json_schema.description = f.description;
      if (typeof f.strict === "boolean") json_schema.strict = f.strict;
      return { type: "json_schema", json_schema };
    }
    default:
      return fail("text.format.type", "must be text, json_object or json_schema");
  }
}
