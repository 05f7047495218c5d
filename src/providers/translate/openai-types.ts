/**
 * The OpenAI Chat Completions wire format as far as the translators read and write it.
 * The canonical types in ../types.ts keep payloads as open JSON records; these aliases
 * give the translators names for the parts they touch.
 */

export type OpenAITextPart = { type: "text"; text: string };
export type OpenAIImagePart = { type: "image_url"; image_url: { url: string; detail?: string } };
export type OpenAIFilePart = {
  type: "file";
  file: { file_data?: string; file_id?: string; filename?: string };
};
export type OpenAIRefusalPart = { type: "refusal"; refusal: string };
export type OpenAIContentPart = OpenAITextPart | OpenAIImagePart | OpenAIFilePart | OpenAIRefusalPart;

export type OpenAIToolCall = { id: string; type: "function"; function: { name: string; arguments: string } };

export type OpenAIMessage = {
  role: "system" | "developer" | "user" | "assistant" | "tool";
  content?: string | OpenAIContentPart[] | null;
  name?: string;
  tool_calls?: OpenAIToolCall[];
  tool_call_id?: string;
  refusal?: string | null;
};

export type OpenAITool = {
  type: "function";
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
};

export type OpenAIToolChoice =
  | "auto"
  | "none"
  | "required"
  | { type: "function"; function: { name: string } };

export type OpenAIFinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call";

/** The request fields the translators read; everything else on a ChatRequest is passed over. */
export type OpenAIRequest = {
  model: string;
  messages: OpenAIMessage[];
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string | string[] | null;
  user?: string;
  tools?: OpenAITool[];
  tool_choice?: OpenAIToolChoice;
  parallel_tool_calls?: boolean;
  stream?: boolean;
};

export type OpenAIUsage = {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number };
};

export type OpenAIChoice = {
  index: number;
  message: OpenAIMessage;
  finish_reason: OpenAIFinishReason | null;
  logprobs?: unknown;
};

export type OpenAIToolCallDelta = {
  index: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
};

export type OpenAIDelta = {
  role?: "assistant";
  content?: string | null;
  refusal?: string | null;
  tool_calls?: OpenAIToolCallDelta[];
};

export type OpenAIChunkChoice = {
  index: number;
  delta: OpenAIDelta;
  finish_reason: OpenAIFinishReason | null;
  logprobs?: unknown;
};
