import { z } from "@hono/zod-openapi";

/**
 * The gateway's request and response bodies for the OpenAPI document: OpenAI's and
 * Anthropic's wire shapes at the level a client generator needs (required fields, the main
 * properties). Documentation only: the gateway reads bodies itself (chat/request.ts) and
 * passes properties not listed here on to the provider.
 */

const Model = z.string().min(1).openapi({
  description: "A registered model: its name (the production version), `name@alias` or `name@version`.",
  example: "support-assistant",
});
const User = z
  .string()
  .describe("The end user; the sticky-assignment subject when x-modelgov-subject is not sent");
const Stream = z.boolean().default(false).describe("Answer as server-sent events");
const Metadata = z.record(z.string(), z.string()).describe("Key-value pairs; also read as flag context");

// OpenAI: chat completions

const ContentPart = z
  .object({
    type: z.string().describe("text, image_url, input_audio, file ..."),
    text: z.string().optional(),
  })
  .openapi("OpenAIContentPart", {
    description: "A typed content part; properties beyond `type` depend on it",
  });
const ToolCall = z
  .object({
    id: z.string(),
    type: z.literal("function"),
    function: z.object({ name: z.string(), arguments: z.string().describe("JSON text") }),
  })
  .openapi("OpenAIToolCall");
const ChatMessage = z
  .object({
    role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
    content: z
      .union([z.string(), z.array(ContentPart)])
      .nullable()
      .optional(),
    name: z.string().optional(),
    tool_calls: z.array(ToolCall).optional(),
    tool_call_id: z.string().optional().describe("On a tool message: the call it answers"),
  })
  .openapi("OpenAIChatMessage");
const Tool = z
  .object({
    type: z.literal("function"),
    function: z.object({
      name: z.string(),
      description: z.string().optional(),
      parameters: z.record(z.string(), z.unknown()).optional().describe("A JSON Schema"),
    }),
  })
  .openapi("OpenAITool");
const Stop = z.union([z.string(), z.array(z.string())]).describe("Up to 4 sequences that end the answer");

export const ChatCompletionRequest = z
  .object({
    model: Model,
    messages: z.array(ChatMessage).min(1),
    max_tokens: z.number().int().positive().optional(),
    max_completion_tokens: z.number().int().positive().optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    n: z.number().int().positive().optional(),
    stop: Stop.optional(),
    stream: Stream.optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).optional(),
    tools: z.array(Tool).optional(),
    tool_choice: z
      .union([z.enum(["none", "auto", "required"]), z.record(z.string(), z.unknown())])
      .optional(),
    response_format: z.record(z.string(), z.unknown()).optional(),
    seed: z.number().int().optional(),
    user: User.optional(),
    metadata: Metadata.optional(),
  })
  .openapi("ChatCompletionRequest");

const OpenAIUsage = z
  .object({
    prompt_tokens: z.number().int(),
    completion_tokens: z.number().int(),
    total_tokens: z.number().int(),
  })
  .openapi("OpenAIUsage");
const FinishReason = z.enum(["stop", "length", "tool_calls", "content_filter", "function_call"]).nullable();

export const ChatCompletion = z
  .object({
    id: z.string(),
    object: z.literal("chat.completion"),
    created: z.number().int().describe("Unix seconds"),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        message: z.object({
          role: z.literal("assistant"),
          content: z.string().nullable(),
          tool_calls: z.array(ToolCall).optional(),
        }),
        finish_reason: FinishReason,
      }),
    ),
    usage: OpenAIUsage.optional(),
  })
  .openapi("ChatCompletion");

// OpenAI: legacy completions, responses, embeddings

export const CompletionRequest = z
  .object({
    model: Model,
    prompt: z.union([z.string(), z.array(z.string())]),
    max_tokens: z.number().int().positive().optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    n: z.number().int().positive().optional(),
    stop: Stop.optional(),
    suffix: z.string().optional(),
    stream: Stream.optional(),
    user: User.optional(),
  })
  .openapi("CompletionRequest");

export const Completion = z
  .object({
    id: z.string(),
    object: z.literal("text_completion"),
    created: z.number().int().describe("Unix seconds"),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        text: z.string(),
        finish_reason: FinishReason,
        logprobs: z.record(z.string(), z.unknown()).nullable().optional(),
      }),
    ),
    usage: OpenAIUsage.optional(),
  })
  .openapi("Completion");

export const ResponseRequest = z
  .object({
    model: Model,
    input: z
      .union([z.string(), z.array(z.record(z.string(), z.unknown()))])
      .describe("Text, or a list of input items (messages with role and content)"),
    instructions: z.string().optional().describe("A system message"),
    max_output_tokens: z.number().int().positive().optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    tools: z.array(z.record(z.string(), z.unknown())).optional(),
    tool_choice: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    stream: Stream.optional(),
    user: User.optional(),
    metadata: Metadata.optional(),
  })
  .openapi("ResponseRequest");

export const ResponseObject = z
  .object({
    id: z.string(),
    object: z.literal("response"),
    created_at: z.number().int().describe("Unix seconds"),
    status: z.enum(["completed", "incomplete", "failed", "in_progress"]),
    model: z.string(),
    output: z.array(
      z.object({
        type: z.string().describe("message, function_call ..."),
        id: z.string(),
        role: z.literal("assistant").optional(),
        status: z.string().optional(),
        content: z.array(z.object({ type: z.string().describe("output_text"), text: z.string() })).optional(),
      }),
    ),
    usage: z
      .object({
        input_tokens: z.number().int(),
        output_tokens: z.number().int(),
        total_tokens: z.number().int(),
      })
      .optional(),
  })
  .openapi("OpenAIResponse", {
    description: "A Responses API answer (named apart from the fetch API's Response for generated clients)",
  });

export const EmbeddingRequest = z
  .object({
    model: Model,
    input: z
      .union([z.string(), z.array(z.string())])
      .describe("The text to embed, or a list of texts (one embedding each)"),
    encoding_format: z.enum(["float", "base64"]).optional(),
    dimensions: z.number().int().positive().optional(),
    user: User.optional(),
  })
  .openapi("EmbeddingRequest");

export const EmbeddingList = z
  .object({
    object: z.literal("list"),
    data: z.array(
      z.object({
        object: z.literal("embedding"),
        index: z.number().int(),
        embedding: z
          .union([z.array(z.number()), z.string()])
          .describe("Numbers, or base64 text when encoding_format is base64"),
      }),
    ),
    model: z.string(),
    usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
  })
  .openapi("EmbeddingList");

// OpenAI: models

export const GatewayModel = z
  .object({
    id: z.string().describe("What a client sends as `model`: the name (production), or `name@alias`"),
    object: z.literal("model"),
    created: z.number().int(),
    owned_by: z.string(),
    version: z.string().describe("The version the alias points at now"),
  })
  .openapi("GatewayModel");

export const GatewayModelList = z
  .object({ object: z.literal("list"), data: z.array(GatewayModel) })
  .openapi("GatewayModelList");

// Anthropic: messages

const AnthropicBlock = z
  .object({
    type: z.string().describe("text, image, tool_use, tool_result ..."),
    text: z.string().optional(),
  })
  .openapi("AnthropicContentBlock", {
    description: "A typed content block; properties beyond `type` depend on it",
  });
const AnthropicMessage = z
  .object({
    role: z.enum(["user", "assistant"]),
    content: z.union([z.string(), z.array(AnthropicBlock)]),
  })
  .openapi("AnthropicMessage");
const AnthropicTool = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    input_schema: z.record(z.string(), z.unknown()).describe("A JSON Schema"),
  })
  .openapi("AnthropicTool");
const System = z.union([z.string(), z.array(AnthropicBlock)]).describe("The system prompt");

export const MessageRequest = z
  .object({
    model: Model,
    max_tokens: z.number().int().positive(),
    messages: z.array(AnthropicMessage).min(1),
    system: System.optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.number().int().positive().optional(),
    stop_sequences: z.array(z.string()).optional(),
    stream: Stream.optional(),
    tools: z.array(AnthropicTool).optional(),
    tool_choice: z.record(z.string(), z.unknown()).optional(),
    metadata: z.object({ user_id: z.string().optional() }).optional(),
  })
  .openapi("MessageRequest");

export const Message = z
  .object({
    id: z.string(),
    type: z.literal("message"),
    role: z.literal("assistant"),
    model: z.string(),
    content: z.array(
      z
        .object({
          type: z.string().describe("text or tool_use"),
          text: z.string().optional(),
          id: z.string().optional(),
          name: z.string().optional(),
          input: z.record(z.string(), z.unknown()).optional(),
        })
        .openapi("AnthropicResponseBlock"),
    ),
    stop_reason: z.enum(["end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal"]).nullable(),
    stop_sequence: z.string().nullable(),
    usage: z.object({ input_tokens: z.number().int(), output_tokens: z.number().int() }),
  })
  .openapi("Message");

export const CountTokensRequest = z
  .object({
    model: Model,
    messages: z.array(AnthropicMessage).min(1),
    system: System.optional(),
    tools: z.array(AnthropicTool).optional(),
  })
  .openapi("CountTokensRequest");

export const TokenCount = z.object({ input_tokens: z.number().int() }).openapi("MessageTokensCount");

// modelgov: feedback and errors

export const FeedbackAccepted = z
  .object({ accepted: z.literal(true), requestId: z.string(), feedbackId: z.string() })
  .openapi("FeedbackAccepted");

export const GatewayErrorBody = z
  .object({
    type: z
      .string()
      .describe("A problem type URI (OpenAI dialect and feedback), or `error` (Anthropic dialect)"),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().describe("What went wrong, naming the field and the reason"),
    code: z.string().describe("modelgov's problem code: invalid_input, unauthenticated, forbidden ..."),
    errors: z.array(z.object({ field: z.string(), reason: z.string() })),
    error: z
      .object({
        type: z.string().describe("invalid_request_error, authentication_error, rate_limit_error ..."),
        message: z.string(),
        code: z.string(),
      })
      .optional()
      .describe(
        "The SDKs' error object (OpenAI's `error`, Anthropic's `error`); absent on feedback problems",
      ),
    requestId: z.string().optional(),
    request_id: z.string().optional(),
  })
  .openapi("GatewayError", {
    description:
      "application/problem+json (RFC 9457) that is also OpenAI's and Anthropic's error shape, so the official SDKs raise their usual exceptions",
  });
