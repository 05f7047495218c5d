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
 * A loopback OpenAI Chat Completions server (POST …/chat/completions, base URL `${url}`
 * ending in /v1): plain JSON and SSE answers with usage, a tool call when the request
 * offers tools (unless tool_choice is "none" or the last message is a tool result), and
 * finish_reason "length" when max_tokens (one word, one token) cuts the reply.
 */
export function startFakeOpenAI(): Promise<FakeUpstream> {
  return startFake(openAIProtocol);
}

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "invalid_request_error",
  404: "invalid_request_error",
  429: "requests",
  500: "server_error",
  503: "server_error",
};

type Call = { id: string; name: string; arguments: string };

interface Answer {
  content: string | null;
  call: Call | undefined;
  finish: "stop" | "length" | "tool_calls";
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

function answerOf(body: Json, knobs: FakeKnobs, n: number): Answer {
  const messages = body.messages as Json[];
  const last = messages[messages.length - 1];
  const prompt = promptTokens(messages);
  const tools = Array.isArray(body.tools) ? (body.tools as Array<{ function: Json }>) : [];
  if (tools.length > 0 && body.tool_choice !== "none" && last?.role !== "tool") {
    const forced = (body.tool_choice as { function?: { name?: string } } | undefined)?.function?.name;
    const fn = (forced ? tools.find((t) => t.function.name === forced) : tools[0])?.function ?? {};
    const call = {
      id: `call_fake${n}`,
      name: String(fn.name),
      arguments: JSON.stringify(sampleArguments(fn.parameters)),
    };
    const usage = { prompt_tokens: prompt, completion_tokens: 12, total_tokens: prompt + 12 };
    return { content: null, call, finish: "tool_calls", usage };
  }
  const text =
    last?.role === "tool" ? `${knobs.reply} (tool said: ${String(last.content).slice(0, 40)})` : knobs.reply;
  const { words, cut } = limitWords(text, body.max_completion_tokens ?? body.max_tokens);
  const usage = {
    prompt_tokens: prompt,
    completion_tokens: words.length,
    total_tokens: prompt + words.length,
  };
  return { content: words.join(" "), call: undefined, finish: cut ? "length" : "stop", usage };
}

const openAIProtocol: FakeProtocol = {
  defaultReply: "Hello from fake-openai. How can I help you today?",
  isApiPath: (url) => url.endsWith("/chat/completions") || url.endsWith("/embeddings"),
  baseUrl: (origin) => `${origin}/v1`,

  invalid(body) {
    if (typeof body.model !== "string") return "you must provide a model parameter";
    if (isEmbeddings(body)) return Array.isArray(body.input) ? undefined : "'$.input' is invalid";
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return "[] is too short - 'messages'";
    }
    return undefined;
  },

  errorBody(status, message) {
    const type = ERROR_TYPES[status] ?? (status >= 500 ? "server_error" : "invalid_request_error");
    return JSON.stringify({ error: { message, type, param: null, code: null } });
  },

  plain(body, knobs, n) {
    if (isEmbeddings(body)) return embeddingsOf(body);
    const a = answerOf(body, knobs, n);
    const message: Json = { role: "assistant", content: a.content, refusal: null, annotations: [] };
    if (a.call) {
      message.tool_calls = [
        { id: a.call.id, type: "function", function: { name: a.call.name, arguments: a.call.arguments } },
      ];
    }
    return JSON.stringify({
      id: `chatcmpl-fake${n}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: a.finish }],
      usage: a.usage,
      service_tier: "default",
      system_fingerprint: "fp_fake",
    });
  },

  events(body, knobs, n) {
    const a = answerOf(body, knobs, n);
    const withUsage =
      (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    // Real OpenAI puts "usage": null on every chunk but the last when usage was asked for.
    const head = `{"id":"chatcmpl-fake${n}","object":"chat.completion.chunk","created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(body.model)},"system_fingerprint":"fp_fake",`;
    const tail = withUsage ? `,"usage":null}` : "}";
    const event = (delta: Json, finish: string | null = null) =>
      `data: ${head}"choices":[{"index":0,"delta":${JSON.stringify(delta)},"logprobs":null,"finish_reason":${finish ? `"${finish}"` : "null"}}]${tail}\n\n`;
    const out: string[] = [];
    if (a.call) {
      const { id, name } = a.call;
      out.push(
        event({
          role: "assistant",
          content: null,
          tool_calls: [{ index: 0, id, type: "function", function: { name, arguments: "" } }],
          refusal: null,
        }),
      );
      for (const f of fragments(a.call.arguments))
        out.push(event({ tool_calls: [{ index: 0, function: { arguments: f } }] }));
    } else {
      out.push(event({ role: "assistant", content: "", refusal: null }));
      for (const p of pieces((a.content ?? "").split(" "))) out.push(event({ content: p }));
    }
    out.push(event({}, a.finish));
    if (withUsage) out.push(`data: ${head}"choices":[],"usage":${JSON.stringify(a.usage)}}\n\n`);
    out.push("data: [DONE]\n\n");
    return out;
  },
};

/** An embeddings request (POST …/embeddings): it has `input`, a chat request `messages`. */
const isEmbeddings = (body: Json) => body.input !== undefined && body.messages === undefined;

/** One vector per input (`dimensions` long, default 8, each item's own), a token a word or token id. */
function embeddingsOf(body: Json): string {
  const input = body.input as Array<string | number[]>;
  const dims = typeof body.dimensions === "number" ? body.dimensions : 8;
  const data = input.map((item, index) => {
    const seed = typeof item === "string" ? item.length : item.length + 1000;
    const vector = Array.from({ length: dims }, (_, i) => Math.fround(((seed + i) % 7) / 7));
    const b = Buffer.alloc(dims * 4);
    for (const [i, x] of vector.entries()) b.writeFloatLE(x, i * 4);
    return {
      object: "embedding",
      index,
      embedding: body.encoding_format === "base64" ? b.toString("base64") : vector,
    };
  });
  const tokens = input.reduce(
    (t, item) => t + (typeof item === "string" ? item.split(/\s+/).length : item.length),
    0,
  );
  return JSON.stringify({
    object: "list",
    data,
    model: body.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}
