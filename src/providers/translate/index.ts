export * from "./anthropic-types.ts";
export { chatToCompletionResponse, chatToCompletionStream, completionsToChatRequest } from "./completions.ts";
export { TranslateInputError } from "./input-error.ts";
export * from "./openai-types.ts";
export {
  anthropicToOpenAIRequest,
  DEFAULT_MAX_TOKENS,
  openAIToAnthropicRequest,
  parseArguments,
} from "./request.ts";
export {
  anthropicToOpenAIResponse,
  anthropicUsageOf,
  FINISH_REASON_OF,
  finishReasonOf,
  openAIToAnthropicResponse,
  openAIUsageOf,
  STOP_REASON_OF,
  stopReasonOf,
} from "./response.ts";
export { responsesToChatRequest } from "./responses-request.ts";
export {
  chatToResponsesResponse,
  chatToResponsesStream,
  type ResponsesEvent,
  type ResponsesOptions,
} from "./responses-response.ts";
export { AnthropicStreamError, anthropicToOpenAIStream, openAIToAnthropicStream } from "./stream.ts";
