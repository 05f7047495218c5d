import {
  type FakeKnobs,
  type FakeProtocol,
  type FakeUpstream,
  fragments,
  type Json,
  limitWords,
  pieces,
  promptTokens,
  sampleArguments,
  startFake,
} from "./fake-server.ts";

export type { FakeKnobs, FakeUpstream } from "./fake-server.ts";

/**
 * A loopback Anthropic Messages server (POST /v1/messages, base URL `${url}` without /v1):
 * plain JSON and SSE answers with usage, a text block then a tool_use block when the
 * request offers tools (unless tool_choice is "none" or the last turn carries a
 * tool_result), stop_reason "max_tokens" when max_tokens (one word, one token) cuts the reply.
 */
export function startFakeAnthropic(): Promise<FakeUpstream> {
  return startFake(anthropicProtocol);
}

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

const PREAMBLE = "Let me look that up.";

interface Answer {
  text: string;
  tool: { id: string; name: string; input: Json } | undefined;
  stop: "end_turn" | "max_tokens" | "tool_use";
  input: number;
  output: number;
}

function lastToolResult(messages: Json[]): string | undefined {
  const last = messages[messages.length - 1];
  if (last?.role !== "user" || !Array.isArray(last.content)) return undefined;
  const result = (last.content as Json[]).find((b) => b.type === "tool_result");
  if (!result) return undefined;
  return typeof result.content === "string" ? result.content : JSON.stringify(result.content ?? "");
}

function answerOf(body: Json, knobs: FakeKnobs, n: number): Answer {
  const messages = body.messages as Json[];
  const input = promptTokens(messages);
  const toolResult = lastToolResult(messages);
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
  const choice = body.tool_choice as { type?: string; name?: string } | undefined;
  if (tools.length > 0 && choice?.type !== "none" && toolResult === undefined) {
    const tool = (choice?.type === "tool" ? tools.find((t) => t.name === choice.name) : tools[0]) ?? {};
    const call = { id: `toolu_fake${n}`, name: String(tool.name), input: sampleArguments(tool.input_schema) };
    return { text: PREAMBLE, tool: call, stop: "tool_use", input, output: 20 };
  }
  const reply =
    toolResult === undefined ? knobs.reply : `${knobs.reply} (tool said: ${toolResult.slice(0, 40)})`;
  const { words, cut } = limitWords(reply, body.max_tokens);
  return {
    text: words.join(" "),
    tool: undefined,
    stop: cut ? "max_tokens" : "end_turn",
    input,
    output: words.length,
  };
}

const event = (type: string, data: Json) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

const anthropicProtocol: FakeProtocol = {
  defaultReply: "Hello from fake-anthropic. What would you like to know?",
  isApiPath: (url) => url === "/v1/messages" || url.startsWith("/v1/messages?"),
  baseUrl: (origin) => origin,

  invalid(body) {
    if (typeof body.model !== "string") return "model: Field required";
    if (typeof body.max_tokens !== "number") return "max_tokens: Field required";
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return "messages: at least one message is required";
    }
    return undefined;
  },

  errorBody(status, message) {
    const type = ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
    return JSON.stringify({ type: "error", error: { type, message } });
  },

  plain(body, knobs, n) {
    const a = answerOf(body, knobs, n);
    const content: Json[] = [{ type: "text", text: a.text }];
    if (a.tool) content.push({ type: "tool_use", ...a.tool });
    return JSON.stringify({
      id: `msg_fake${n}`,
      type: "message",
      role: "assistant",
      model: body.model,
      content,
      stop_reason: a.stop,
      stop_sequence: null,
      usage: {
        input_tokens: a.input,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: a.output,
        service_tier: "standard",
      },
    });
  },

  events(body, knobs, n) {
    const a = answerOf(body, knobs, n);
    const out = [
      event("message_start", {
        message: {
          id: `msg_fake${n}`,
          type: "message",
          role: "assistant",
          model: body.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens: a.input,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
            output_tokens: 1,
          },
        },
      }),
      event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
      event("ping", {}),
    ];
    for (const p of pieces(a.text.split(" "))) {
      out.push(event("content_block_delta", { index: 0, delta: { type: "text_delta", text: p } }));
    }
    out.push(event("content_block_stop", { index: 0 }));
    if (a.tool) {
      const { id, name, input } = a.tool;
      out.push(
        event("content_block_start", { index: 1, content_block: { type: "tool_use", id, name, input: {} } }),
      );
      // Anthropic opens every tool input with an empty fragment.
      for (const f of ["", ...fragments(JSON.stringify(input))]) {
        out.push(
          event("content_block_delta", { index: 1, delta: { type: "input_json_delta", partial_json: f } }),
        );
      }
      out.push(event("content_block_stop", { index: 1 }));
    }
    out.push(
      event("message_delta", {
        delta: { stop_reason: a.stop, stop_sequence: null },
        usage: { output_tokens: a.output },
      }),
    );
    out.push(event("message_stop", {}));
    return out;
  },
};
