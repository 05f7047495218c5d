import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { FeedbackSchema } from "../feedback/index.ts";
import { GATEWAY_REQUEST_HEADERS, GATEWAY_RESPONSE_HEADERS } from "./http/headers.ts";
import {
  ChatCompletion,
  ChatCompletionRequest,
  Completion,
  CompletionRequest,
  CountTokensRequest,
  EmbeddingList,
  EmbeddingRequest,
  FeedbackAccepted,
  GatewayErrorBody,
  GatewayModel,
  GatewayModelList,
  Message,
  MessageRequest,
  ResponseObject,
  ResponseRequest,
  TokenCount,
} from "./openapi-schemas.ts";

type Registry = OpenAPIHono["openAPIRegistry"];
type Ref = { $ref: string };

const tags = ["gateway"];
/** OpenAI's SDK sends the token as a bearer token, Anthropic's as x-api-key: either will do. */
const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKeyAuth: [] }];

const header = (name: string) => {
  const h = [...GATEWAY_REQUEST_HEADERS, ...GATEWAY_RESPONSE_HEADERS].find((x) => x.name === name);
  if (!h) throw new Error(`no gateway header ${name} in headers.ts`);
  return h;
};
const headerRef = (name: string): Ref => ({ $ref: `#/components/headers/${name}` });
const responseRef = (name: string): Ref => ({ $ref: `#/components/responses/${name}` });

/** The error statuses the gateway answers with, each a GatewayError body (a model call: all of them). */
const ERRORS: [status: number, name: string, description: string][] = [
  [400, "GatewayBadRequest", "Invalid input: the field and the reason"],
  [401, "GatewayUnauthenticated", "No API token, or one unknown, revoked or expired"],
  [
    403,
    "GatewayForbidden",
    "The token's roles do not include gateway use, or the version has no approval in force",
  ],
  [404, "GatewayNotFound", "No such model (or route)"],
  [408, "GatewayBodyTimeout", "The body did not arrive within MODELGOV_GATEWAY_BODY_TIMEOUT_MS"],
  [413, "GatewayTooLarge", "The body is larger than MODELGOV_GATEWAY_MAX_BODY_BYTES"],
  [429, "GatewayRateLimited", "The token's rate limit is exceeded; retry after Retry-After seconds"],
  [502, "GatewayUpstreamError", "The provider failed and no fallback answered"],
  [
    503,
    "GatewayUnavailable",
    "A kill switch, an open circuit breaker or an overloaded provider; retry after Retry-After",
  ],
  [504, "GatewayTimeout", "The provider did not answer in time"],
  [500, "GatewayInternal", "An unexpected failure; the request id is in the server log"],
];
/** The error responses of the statuses given (all of them by default). */
const errorsOf = (statuses?: number[]) =>
  Object.fromEntries(
    ERRORS.filter(([status]) => !statuses || statuses.includes(status)).map(([status, name]) => [
      status,
      responseRef(name),
    ]),
  );
const errorResponses = errorsOf();
const UNROUTED = [401, 403, 429, 500];

/** The request headers every model call reads (the token headers are the security schemes). */
const headerParam = (name: string) =>
  z
    .string()
    .optional()
    .openapi({ param: { description: header(name).description, example: header(name).example } });
const ModelCallHeaders = z.object({
  "x-modelgov-subject": headerParam("x-modelgov-subject"),
  "x-modelgov-groups": headerParam("x-modelgov-groups"),
});

const CONTEXT_NOTE =
  "\n\nHeaders `x-modelgov-context-<name>` add attributes to the evaluation context of the route's flag (docs/flags.md).";

const json = (schema: z.ZodType, description: string, headers: Record<string, Ref>) => ({
  description,
  headers,
  content: { "application/json": { schema } },
});
const modelHeaders = {
  "x-modelgov-request-id": headerRef("x-modelgov-request-id"),
  "x-modelgov-model-version": headerRef("x-modelgov-model-version"),
  "x-modelgov-route": headerRef("x-modelgov-route"),
};
const idHeader = { "x-modelgov-request-id": headerRef("x-modelgov-request-id") };

/** A model call: JSON in, JSON out, or server-sent events when the body asks for a stream. */
function modelCall(r: {
  path: string;
  operationId: string;
  summary: string;
  description: string;
  body: z.ZodType;
  ok: z.ZodType;
  stream: string | null;
}) {
  return {
    method: "post" as const,
    path: r.path,
    operationId: r.operationId,
    summary: r.summary,
    description: r.description + CONTEXT_NOTE,
    tags,
    security,
    request: {
      headers: ModelCallHeaders,
      body: { required: true, content: { "application/json": { schema: r.body } } },
    },
    responses: {
      200: {
        description: r.stream ? `The answer (JSON), or with stream: true ${r.stream}` : "The answer",
        headers: modelHeaders,
        content: {
          "application/json": { schema: r.ok },
          ...(r.stream
            ? {
                "text/event-stream": {
                  schema: z.string().openapi({ description: `Server-sent events: ${r.stream}` }),
                },
              }
            : {}),
        },
      },
      ...errorResponses,
    },
  };
}

/**
 * Describes the gateway's data plane (/v1, a raw node:http handler outside Hono) in the
 * served OpenAPI document, tagged `gateway`: the paths, their bodies, headers and errors.
 */
export function describeGateway(registry: Registry): void {
  registry.registerComponent("securitySchemes", "apiKeyAuth", {
    type: "apiKey",
    in: "header",
    name: "x-api-key",
    description: header("x-api-key").description,
  });
  for (const name of [
    "x-modelgov-request-id",
    "x-modelgov-model-version",
    "x-modelgov-route",
    "retry-after",
  ]) {
    const h = header(name);
    registry.registerComponent("headers", name, {
      description: `${h.description} (${h.format})`,
      schema:
        name === "retry-after"
          ? { type: "integer", example: Number(h.example) }
          : { type: "string", example: h.example },
    });
  }
  registry.register("GatewayError", GatewayErrorBody);
  for (const [status, name, description] of ERRORS)
    registry.registerComponent("responses", name, {
      description,
      headers: {
        ...idHeader,
        ...(status === 429 || status === 503 ? { "retry-after": headerRef("retry-after") } : {}),
        ...(status === 503 ? { "x-modelgov-route": headerRef("x-modelgov-route") } : {}),
      },
      content: { "application/problem+json": { schema: { $ref: "#/components/schemas/GatewayError" } } },
    });

  const feedback = registry.register("Feedback", FeedbackSchema);

  registry.registerPath(
    modelCall({
      path: "/v1/chat/completions",
      operationId: "createChatCompletion",
      summary: "Chat completion (OpenAI dialect), routed to a version of a registered model",
      description:
        "OpenAI's chat completions. The model's route picks the version (pinned, alias, rollout or experiment split, flag), with its fallbacks; the answer is the provider's, in OpenAI's shape whatever the provider.",
      body: ChatCompletionRequest,
      ok: ChatCompletion,
      stream: "chat.completion.chunk objects, then `data: [DONE]`",
    }),
  );
  registry.registerPath(
    modelCall({
      path: "/v1/completions",
      operationId: "createCompletion",
      summary: "Text completion (OpenAI's legacy completions)",
      description: "OpenAI's legacy completions: a prompt in, text out.",
      body: CompletionRequest,
      ok: Completion,
      stream: "text_completion objects, then `data: [DONE]`",
    }),
  );
  registry.registerPath(
    modelCall({
      path: "/v1/responses",
      operationId: "createResponse",
      summary: "Model response (OpenAI Responses API)",
      description: "OpenAI's Responses API: input text or items in, output items out.",
      body: ResponseRequest,
      ok: ResponseObject,
      stream: "typed events (response.created, response.output_text.delta, ..., response.completed)",
    }),
  );
  registry.registerPath(
    modelCall({
      path: "/v1/embeddings",
      operationId: "createEmbedding",
      summary: "Embeddings (OpenAI dialect)",
      description: "OpenAI's embeddings: one vector per input text.",
      body: EmbeddingRequest,
      ok: EmbeddingList,
      stream: null,
    }),
  );
  registry.registerPath(
    modelCall({
      path: "/v1/messages",
      operationId: "createMessage",
      summary: "Message (Anthropic dialect), routed to a version of a registered model",
      description:
        "Anthropic's Messages API, answered in Anthropic's shape whatever the provider; errors carry `type: error`.",
      body: MessageRequest,
      ok: Message,
      stream: "message_start, content_block_delta, ..., message_stop events",
    }),
  );
  registry.registerPath({
    method: "post",
    path: "/v1/messages/count_tokens",
    operationId: "countMessageTokens",
    summary: "Count a message's input tokens (Anthropic dialect)",
    description: "Anthropic's token counting: the input tokens the message would use.",
    tags,
    security,
    request: { body: { required: true, content: { "application/json": { schema: CountTokensRequest } } } },
    responses: {
      200: json(TokenCount, "The count", idHeader),
      ...errorsOf([400, 404, 408, 413, ...UNROUTED]),
    },
  });
  registry.registerPath({
    method: "get",
    path: "/v1/models",
    operationId: "listGatewayModels",
    summary: "List the models a gateway token may call (OpenAI dialect)",
    description:
      "Each servable alias: a model's production alias as its bare name, its other aliases as `name@alias`; one whose every version is switched off with nothing to fall back on is left out.",
    tags,
    security,
    responses: { 200: json(GatewayModelList, "The models", idHeader), ...errorsOf(UNROUTED) },
  });
  registry.registerPath({
    method: "get",
    path: "/v1/models/{id}",
    operationId: "getGatewayModel",
    summary: "Get one model a gateway token may call (OpenAI dialect)",
    tags,
    security,
    request: {
      params: z.object({
        id: z.string().openapi({ description: "An id /v1/models lists", example: "support-assistant" }),
      }),
    },
    responses: { 200: json(GatewayModel, "The model", idHeader), ...errorsOf([404, ...UNROUTED]) },
  });
  registry.registerPath({
    method: "post",
    path: "/v1/feedback",
    operationId: "submitFeedback",
    summary: "Record feedback on a gateway answer (success, score, labels, groups, correction)",
    description:
      "About one gateway request, named by its x-modelgov-request-id. Accepted (202) only once durable. Feeds experiments, monitors, bias drift and retraining datasets.",
    tags,
    security,
    request: { body: { required: true, content: { "application/json": { schema: feedback } } } },
    responses: {
      202: json(FeedbackAccepted, "Recorded", idHeader),
      ...errorsOf([400, 408, 413, ...UNROUTED]),
    },
  });
}
