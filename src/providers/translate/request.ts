import type { ChatRequest } from "../types.ts";
import type {
  AnthropicContentBlock,
  AnthropicImageBlock,
  AnthropicMessage,
  AnthropicRequest,
  AnthropicSystemMessage,
  AnthropicTextBlock,
  AnthropicTool,
  AnthropicToolChoice,
  AnthropicToolResultBlock,
  AnthropicToolUseBlock,
} from "./anthropic-types.ts";
import type {
  OpenAIContentPart,
  OpenAIMessage,
  OpenAIRequest,
  OpenAITool,
  OpenAIToolCall,
  OpenAIToolChoice,
} from "./openai-types.ts";

export const DEFAULT_MAX_TOKENS = 1024;

/** Scalar fields that mean the same on both sides; `toAnthropic` narrows OpenAI's wider ranges. */
const SCALARS: Array<{ anthropic: string; openai: string; toAnthropic?: (v: unknown) => unknown }> = [
  // OpenAI's temperature runs 0..2, Anthropic's 0..1: clamp rather than reject a valid canonical request.
  { anthropic: "temperature", openai: "temperature", toAnthropic: (v) => Math.min(Number(v), 1) },
  { anthropic: "top_p", openai: "top_p" },
  { anthropic: "stop_sequences", openai: "stop", toAnthropic: (v) => (typeof v === "string" ? [v] : v) },
];

const TOOL_CHOICE_TO_OPENAI = { auto: "auto", any: "required", none: "none" } as const;
const TOOL_CHOICE_TO_ANTHROPIC = { auto: "auto", required: "any", none: "none" } as const;

// ---------------------------------------------------------------- Anthropic → OpenAI

export function anthropicToOpenAIRequest(req: AnthropicRequest): ChatRequest {
  const messages: OpenAIMessage[] = [];
  const system = typeof req.system === "string" ? req.system : req.system?.map((b) => b.text).join("\n");
  if (system) messages.push({ role: "system", content: system });
  for (const m of req.messages) messages.push(...openAIMessagesOf(m));

  const out: ChatRequest = { model: req.model, messages, max_tokens: req.max_tokens };
  const source = req as unknown as Record<string, unknown>;
  for (const f of SCALARS) {
    const v = source[f.anthropic];
    if (v !== undefined && v !== null) out[f.openai] = v;
  }
  if (req.metadata?.user_id) out.user = req.metadata.user_id;
  const tools = (req.tools ?? []).filter((t) => t.input_schema !== undefined);
  if (tools.length > 0) {
    out.tools = tools.map(
      (t): OpenAITool => ({
        type: "function",
        function: {
          name: t.name,
          ...(t.description ? { description: t.description } : {}),
          parameters: t.input_schema,
        },
      }),
    );
  }
  if (req.tool_choice) {
    const c = req.tool_choice;
    out.tool_choice =
      c.type === "tool" ? { type: "function", function: { name: c.name } } : TOOL_CHOICE_TO_OPENAI[c.type];
    if (c.disable_parallel_tool_use) out.parallel_tool_calls = false;
  }
  if (req.stream) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  return out;
}

function openAIMessagesOf(m: AnthropicMessage | AnthropicSystemMessage): OpenAIMessage[] {
  if (typeof m.content === "string") return [{ role: m.role, content: m.content }];
  if (m.role === "system") return [{ role: "system", content: m.content.map((b) => b.text).join("\n") }];
  if (m.role === "assistant") {
    const text = m.content.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("");
    const calls = m.content.flatMap((b) => (b.type === "tool_use" ? [toolCallOf(b)] : []));
    const msg: OpenAIMessage = { role: "assistant", content: text === "" && calls.length > 0 ? null : text };
    if (calls.length > 0) msg.tool_calls = calls;
    return [msg];
  }
  // Tool results become role "tool" messages, which OpenAI wants right after the assistant
  // turn that called them; Anthropic puts them first in the user turn, so order is kept.
  const out: OpenAIMessage[] = [];
  const parts: OpenAIContentPart[] = [];
  for (const b of m.content) {
    if (b.type === "tool_result") {
      const { text, images } = splitToolResult(b);
      out.push({ role: "tool", tool_call_id: b.tool_use_id, content: b.is_error ? `Error: ${text}` : text });
      // OpenAI tool messages carry text only: images a tool returned follow in the user message.
      parts.push(...images);
    } else {
      const part = openAIPartOf(b);
      if (part) parts.push(part);
    }
  }
  if (parts.length > 0) {
    const only = parts.length === 1 ? parts[0] : undefined;
    out.push({ role: "user", content: only?.type === "text" ? only.text : parts });
  }
  return out;
}

function toolCallOf(b: AnthropicToolUseBlock): OpenAIToolCall {
  return { id: b.id, type: "function", function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } };
}

function splitToolResult(b: AnthropicToolResultBlock): { text: string; images: OpenAIContentPart[] } {
  if (b.content === undefined || typeof b.content === "string") return { text: b.content ?? "", images: [] };
  const text = b.content.flatMap((c) => (c.type === "text" ? [c.text] : [])).join("\n");
  const images = b.content.flatMap((c) => (c.type === "image" ? [imagePartOf(c)] : []));
  return { text, images };
}

function imagePartOf(b: AnthropicImageBlock): OpenAIContentPart {
  const url = b.source.type === "url" ? b.source.url : `data:${b.source.media_type};base64,${b.source.data}`;
  return { type: "image_url", image_url: { url } };
}

function openAIPartOf(b: AnthropicContentBlock): OpenAIContentPart | undefined {
  switch (b.type) {
    case "text":
      return { type: "text", text: b.text };
    case "image":
      return imagePartOf(b);
    case "document":
      if (b.source.type === "text") return { type: "text", text: b.source.data };
      if (b.source.type === "base64") {
        const file_data = `data:${b.source.media_type};base64,${b.source.data}`;
        return { type: "file", file: { file_data, ...(b.title ? { filename: b.title } : {}) } };
      }
      return undefined;
    default:
      // thinking blocks and tool_use in a user turn have no Chat Completions counterpart.
      return undefined;
  }
}

// ---------------------------------------------------------------- OpenAI → Anthropic

export function openAIToAnthropicRequest(
  req: ChatRequest,
  opts: { defaultMaxTokens?: number } = {},
): AnthropicRequest {
  const r = req as OpenAIRequest;
  const system: string[] = [];
  const messages: AnthropicMessage[] = [];
  for (const m of r.messages) {
    switch (m.role) {
      case "system":
      case "developer":
        // Anthropic has one top-level system prompt: system messages anywhere are hoisted into it.
        system.push(textOf(m.content));
        break;
      case "user":
        append(messages, "user", typeof m.content === "string" ? m.content : blocksOfParts(m.content ?? []));
        break;
      case "assistant":
        append(messages, "assistant", assistantBlocks(m));
        break;
      case "tool":
        append(messages, "user", [
          { type: "tool_result", tool_use_id: m.tool_call_id ?? "", content: textOf(m.content) },
        ]);
        break;
    }
  }

  const out: AnthropicRequest = {
    model: r.model,
    messages,
    max_tokens: r.max_completion_tokens ?? r.max_tokens ?? opts.defaultMaxTokens ?? DEFAULT_MAX_TOKENS,
  };
  const joined = system.filter((s) => s !== "").join("\n\n");
  if (joined) out.system = joined;
  const target = out as unknown as Record<string, unknown>;
  const source = req as Record<string, unknown>;
  for (const f of SCALARS) {
    const v = source[f.openai];
    if (v !== undefined && v !== null) target[f.anthropic] = f.toAnthropic ? f.toAnthropic(v) : v;
  }
  if (r.user) out.metadata = { user_id: r.user };
  const tools = (r.tools ?? []).filter((t) => t.type === "function");
  if (tools.length > 0) {
    out.tools = tools.map(
      (t): AnthropicTool => ({
        name: t.function.name,
        ...(t.function.description ? { description: t.function.description } : {}),
        input_schema: t.function.parameters ?? { type: "object", properties: {} },
      }),
    );
  }
  const choice = anthropicToolChoice(r.tool_choice, r.parallel_tool_calls);
  if (choice) out.tool_choice = choice;
  if (r.stream) out.stream = true;
  return out;
}

function anthropicToolChoice(
  c: OpenAIToolChoice | undefined,
  parallel: boolean | undefined,
): AnthropicToolChoice | undefined {
  const base: AnthropicToolChoice | undefined =
    c === undefined
      ? undefined
      : typeof c === "string"
        ? { type: TOOL_CHOICE_TO_ANTHROPIC[c] }
        : { type: "tool", name: c.function.name };
  if (parallel !== false) return base;
  // parallel_tool_calls:false lives on tool_choice in Anthropic (and means nothing with "none").
  const withFlag = base ?? { type: "auto" };
  return withFlag.type === "none" ? withFlag : { ...withFlag, disable_parallel_tool_use: true };
}

/** Consecutive turns of one role are merged: Anthropic wants user and assistant to alternate. */
function append(
  messages: AnthropicMessage[],
  role: AnthropicMessage["role"],
  content: AnthropicMessage["content"],
) {
  if (content.length === 0) return;
  const prev = messages[messages.length - 1];
  if (prev?.role === role) prev.content = [...asBlocks(prev.content), ...asBlocks(content)];
  else messages.push({ role, content });
}

function asBlocks(c: AnthropicMessage["content"]): AnthropicContentBlock[] {
  return typeof c === "string" ? [{ type: "text", text: c }] : c;
}

function textOf(content: OpenAIMessage["content"]): string {
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  return content.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("\n");
}

function assistantBlocks(m: OpenAIMessage): AnthropicContentBlock[] {
  const blocks: AnthropicContentBlock[] =
    typeof m.content === "string" ? [{ type: "text", text: m.content }] : blocksOfParts(m.content ?? []);
  for (const call of m.tool_calls ?? []) {
    blocks.push({
      type: "tool_use",
      id: call.id,
      name: call.function.name,
      input: parseArguments(call.function.arguments),
    });
  }
  // Anthropic rejects empty text blocks, which OpenAI clients send freely ("content": "").
  return blocks.filter((b) => b.type !== "text" || b.text !== "");
}

function blocksOfParts(parts: OpenAIContentPart[]): AnthropicContentBlock[] {
  const out: AnthropicContentBlock[] = [];
  for (const p of parts) {
    if (p.type === "text") out.push({ type: "text", text: p.text } satisfies AnthropicTextBlock);
    else if (p.type === "refusal") out.push({ type: "text", text: p.refusal });
    else if (p.type === "image_url") {
      const data = parseDataUrl(p.image_url.url);
      out.push({
        type: "image",
        source: data ? { type: "base64", ...data } : { type: "url", url: p.image_url.url },
      });
    } else if (p.type === "file" && p.file.file_data) {
      const data = parseDataUrl(p.file.file_data);
      if (data) out.push({ type: "document", source: { type: "base64", ...data } });
    }
    // input_audio and file ids have no Messages counterpart and are dropped.
  }
  return out;
}

function parseDataUrl(url: string): { media_type: string; data: string } | undefined {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return m ? { media_type: m[1]!, data: m[2]! } : undefined;
}

/** Tool arguments are a JSON string in OpenAI and an object in Anthropic; garbage becomes `{}`. */
export function parseArguments(args: string | undefined): Record<string, unknown> {
  if (!args) return {};
  try {
    const v: unknown = JSON.parse(args);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
