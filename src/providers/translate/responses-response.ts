import type { ChatChunk, ChatRequest, ChatResponse, Json } from "../types.ts";
import type {
  OpenAIChoice,
  OpenAIChunkChoice,
  OpenAIFinishReason,
  OpenAIMessage,
  OpenAITool,
  OpenAIUsage,
} from "./openai-types.ts";

/*
 * The canonical Chat Completions answer → an OpenAI Responses API `response` object, and a
 * chunk stream → the Responses SSE events (response.created … response.completed). The
 * ids are derived from one base (the gateway's request id), so a response, its items and
 * the request log line up.
 */

export interface ResponsesOptions {
  /** The base of the ids: `resp_<base>`, `msg_<base>`, `fc_<base>_<n>`. */
  id: string;
  /** The model name the caller sees. */
  model: string;
  /** The canonical request, echoed back as the Responses fields it came from. */
  request: ChatRequest;
  created?: number;
}

type Usage = { input_tokens: number; output_tokens: number; total_tokens: number } & Json;

function usageOf(u: OpenAIUsage | undefined, estimatedOutput = 0): Usage {
  const input = u?.prompt_tokens ?? 0;
  const output = u?.completion_tokens ?? estimatedOutput;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u?.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + output,
  };
}

/** A finish that cut the answer short makes the response `incomplete`, with OpenAI's reason. */
function statusOf(finish: OpenAIFinishReason | null | undefined) {
  if (finish === "length")
    return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } } as const;
  if (finish === "content_filter")
    return { status: "incomplete", incomplete_details: { reason: "content_filter" } } as const;
  return { status: "completed", incomplete_details: null } as const;
}

/** The Responses fields of a response object that echo the request. */
function echo(req: ChatRequest): Json {
  const tools = ((req.tools as OpenAITool[] | undefined) ?? []).map((t) => ({
    type: "function",
    name: t.function.name,
    description: t.function.description ?? null,
    parameters: t.function.parameters ?? null,
    strict: t.function.strict ?? null,
  }));
  const choice = req.tool_choice as Json | string | undefined;
  const format = req.response_format as { type: string; json_schema?: Json } | undefined;
  const system = (req.messages as OpenAIMessage[]).find((m) => m.role === "system" && m === req.messages[0]);
  return {
    instructions: typeof system?.content === "string" ? system.content : null,
    max_output_tokens: (req.max_tokens as number | undefined) ?? null,
    metadata: (req.metadata as Json | undefined) ?? {},
    parallel_tool_calls: (req.parallel_tool_calls as boolean | undefined) ?? true,
    previous_response_id: null,
    store: false,
    temperature: (req.temperature as number | undefined) ?? null,
    text: {
      format:
        format?.type === "json_schema"
          ? { type: "json_schema", ...format.json_schema }
          : format?.type === "json_object"
            ? { type: "json_object" }
            : { type: "text" },
    },
    tool_choice:
      typeof choice === "object" && choice
        ? { type: "function", name: (choice.function as { name: string }).name }
        : (choice ?? "auto"),
    tools,
    top_p: (req.top_p as number | undefined) ?? null,
    truncation: "disabled",
    user: (req.user as string | undefined) ?? null,
  };
}

function base(o: ResponsesOptions, created: number): Json {
  return {
    id: `resp_${o.id}`,
    object: "response",
    created_at: created,
    model: o.model,
    error: null,
    ...echo(o.request),
  };
}

const messageItem = (id: string, text: string, status: string) => ({
  type: "message",
  id,
  status,
  role: "assistant",
  content: [{ type: "output_text", text, annotations: [] }],
});

const callItem = (id: string, callId: string, name: string, args: string, status: string) => ({
  type: "function_call",
  id,
  call_id: callId,
  name,
  arguments: args,
  status,
});

/** A plain chat answer as a Responses `response` object (the first choice: Responses has no `n`). */
export function chatToResponsesResponse(res: ChatResponse, o: ResponsesOptions): Json {
  const choice = res.choices[0] as OpenAIChoice | undefined;
  const m = choice?.message;
  const output: Json[] = [];
  const text =
    typeof m?.content === "string"
      ? m.content
      : (m?.content ?? []).flatMap((p) => (p.type === "text" ? [p.text] : [])).join("");
  if (text || m?.refusal || !m?.tool_calls?.length) {
    const item = messageItem(`msg_${o.id}`, text, "completed");
    if (m?.refusal) item.content.push({ type: "refusal", refusal: m.refusal } as never);
    output.push(item);
  }
  for (const [i, c] of (m?.tool_calls ?? []).entries())
    output.push(callItem(`fc_${o.id}_${i}`, c.id, c.function.name, c.function.arguments, "completed"));
  return {
    ...base(o, o.created ?? (res.created as number | undefined) ?? Math.floor(Date.now() / 1000)),
    ...statusOf(choice?.finish_reason),
    output,
    usage: usageOf(res.usage as OpenAIUsage | undefined),
  };
}

/** One Responses SSE event: its `event:` name is its `type`. */
export interface ResponsesEvent {
  event: string;
  data: Json;
}

/**
 * Chat chunks → Responses SSE events, in the order OpenAI sends them: response.created and
 * response.in_progress, then per output item (a message, or a function call) its added,
 * deltas, done events, then response.completed (or response.incomplete when the answer was
 * cut) carrying the whole response. Each item is closed when the next one opens (chat
 * streams tool calls one after the other). Without usage, output tokens are estimated at 4
 * characters each.
 */
export async function* chatToResponsesStream(
  chunks: AsyncIterable<ChatChunk>,
  o: ResponsesOptions,
): AsyncGenerator<ResponsesEvent> {
  const head = base(o, o.created ?? Math.floor(Date.now() / 1000));
  let seq = 0;
  const ev = (type: string, fields: Json): ResponsesEvent => ({
    event: type,
    data: { type, sequence_number: seq++, ...fields },
  });
  const output: Json[] = [];
  let open: { kind: "message"; index: number; id: string; text: string } | undefined;
  let openCall: { index: number; id: string; callId: string; name: string; args: string } | undefined;
  const callByIndex = new Map<number, NonNullable<typeof openCall>>();
  let finish: OpenAIFinishReason | null = null;
  let usage: OpenAIUsage | undefined;
  let chars = 0;

  const inProgress = { ...head, status: "in_progress", incomplete_details: null, output: [], usage: null };
  yield ev("response.created", { response: inProgress });
  yield ev("response.in_progress", { response: inProgress });

  function* close(): Generator<ResponsesEvent> {
    if (open) {
      const { index, id, text } = open;
      const part = { type: "output_text", text, annotations: [] };
      yield ev("response.output_text.done", {
        item_id: id,
        output_index: index,
        content_index: 0,
        text,
        logprobs: [],
      });
      yield ev("response.content_part.done", { item_id: id, output_index: index, content_index: 0, part });
      output[index] = messageItem(id, text, "completed");
      yield ev("response.output_item.done", { output_index: index, item: output[index] });
      open = undefined;
    }
    if (openCall) {
      const { index, id, callId, name, args } = openCall;
      yield ev("response.function_call_arguments.done", {
        item_id: id,
        output_index: index,
        name,
        arguments: args,
      });
      output[index] = callItem(id, callId, name, args, "completed");
      yield ev("response.output_item.done", { output_index: index, item: output[index] });
      openCall = undefined;
    }
  }

  for await (const c of chunks) {
    if (c.usage) usage = c.usage as OpenAIUsage;
    const choice = c.choices[0] as OpenAIChunkChoice | undefined;
    if (!choice) continue;
    const d = choice.delta ?? {};
    const text = (d.content ?? "") + (d.refusal ?? "");
    if (text) {
      if (!open) {
        yield* close();
        const index = output.length;
        const id = index === 0 ? `msg_${o.id}` : `msg_${o.id}_${index}`;
        open = { kind: "message", index, id, text: "" };
        output.push({ ...messageItem(id, "", "in_progress"), content: [] });
        yield ev("response.output_item.added", { output_index: index, item: output[index] });
        const part = { type: "output_text", text: "", annotations: [] };
        yield ev("response.content_part.added", { item_id: id, output_index: index, content_index: 0, part });
      }
      open.text += text;
      chars += text.length;
      yield ev("response.output_text.delta", {
        item_id: open.id,
        output_index: open.index,
        content_index: 0,
        delta: text,
        logprobs: [],
      });
    }
    for (const tc of d.tool_calls ?? []) {
      let call = callByIndex.get(tc.index);
      if (!call) {
        yield* close();
        const index = output.length;
        call = {
          index,
          id: `fc_${o.id}_${tc.index}`,
          callId: tc.id ?? `call_${o.id}_${tc.index}`,
          name: tc.function?.name ?? "",
          args: "",
        };
        callByIndex.set(tc.index, call);
        openCall = call;
        output.push(callItem(call.id, call.callId, call.name, "", "in_progress"));
        yield ev("response.output_item.added", { output_index: index, item: output[index] });
      }
      const args = tc.function?.arguments;
      if (args) {
        call.args += args;
        chars += args.length;
        yield ev("response.function_call_arguments.delta", {
          item_id: call.id,
          output_index: call.index,
          delta: args,
        });
      }
    }
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  yield* close();
  // Items a later tool call closed early are final too (their arguments were complete).
  for (const call of callByIndex.values())
    output[call.index] = callItem(call.id, call.callId, call.name, call.args, "completed");
  const state = statusOf(finish);
  const response = { ...head, ...state, output, usage: usageOf(usage, Math.ceil(chars / 4)) };
  yield ev(state.status === "completed" ? "response.completed" : "response.incomplete", { response });
}
