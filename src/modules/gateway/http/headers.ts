/**
 * The HTTP headers the gateway reads and sets, described once: docs/reference/gateway-headers.md
 * is generated from these lists, and a test fails when the gateway reads a header not listed.
 */
export interface GatewayHeader {
  name: string;
  /** What a value looks like. */
  format: string;
  description: string;
  example: string;
}

export const GATEWAY_REQUEST_HEADERS: readonly GatewayHeader[] = [
  {
    name: "authorization",
    format: "Bearer <API token>",
    description:
      "The API token (a role with gateway use: agent or admin). Rate-limited per token: MODELGOV_GATEWAY_RATE_PER_SEC, MODELGOV_GATEWAY_RATE_BURST.",
    example: "Bearer mgv_…",
  },
  {
    name: "x-api-key",
    format: "<API token>",
    description: "The API token the Anthropic SDK's way, when there is no `authorization` header.",
    example: "mgv_…",
  },
  {
    name: "x-modelgov-subject",
    format: "any string",
    description:
      "Who the request is for. The same subject gets the same version during a rollout or an experiment (sticky assignment); unset, the body's `user` is used, else each request falls in a bucket of its own.",
    example: "customer-4711",
  },
  {
    name: "x-modelgov-groups",
    format: "attribute=value pairs separated by `;` or `,`",
    description:
      "Group attributes of the request, recorded in the request log for fairness and bias drift analysis; the simulator's `quality.byGroup` answers by them (`age_band:65+`). Spaces around names and values are trimmed; a pair without `=` is ignored. Use the same attribute names as in feedback `groups` (lowercase letters, digits and `_`).",
    example: "age_band=65+; language=de",
  },
  {
    name: "x-modelgov-context-<name>",
    format: "any string",
    description:
      "An attribute of the evaluation context a model route's flag sees (`x-modelgov-context-tenant: internal` sets `tenant`), over a `metadata` field of the same name; `user` and `targetingKey` (the subject) cannot be set this way. Read only when the route of the model asked for has a flag (docs/flags.md, In the gateway).",
    example: "internal",
  },
  {
    name: "traceparent",
    format: "W3C Trace Context: 00-<trace id>-<parent id>-<flags>",
    description:
      "The caller's trace. With tracing on (OTEL_EXPORTER_OTLP_ENDPOINT), the gateway's span for the call is its child, and each upstream attempt gets the attempt span's own `traceparent` in the same trace; off, it reaches the upstream unchanged. A malformed one is ignored (docs/tracing.md).",
    example: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  },
  {
    name: "tracestate",
    format: "W3C Trace Context: vendor=value list",
    description: "Vendor trace state, passed on upstream with the `traceparent`.",
    example: "congo=t61rcWkgMzE",
  },
];

export const GATEWAY_RESPONSE_HEADERS: readonly GatewayHeader[] = [
  {
    name: "x-modelgov-request-id",
    format: "req_…",
    description: "The request's id: send it as `requestId` in feedback (POST /v1/feedback).",
    example: "req_3f9a1c0e2b7d000001",
  },
  {
    name: "x-request-id",
    format: "req_…",
    description:
      "The same id, where the OpenAI SDKs read it (`_request_id` on a result, `requestID` on an error). On every answer, errors and streams included.",
    example: "req_3f9a1c0e2b7d000001",
  },
  {
    name: "request-id",
    format: "req_…",
    description: "The same id, where the Anthropic SDKs read it (`_request_id`, `requestID`).",
    example: "req_3f9a1c0e2b7d000001",
  },
  {
    name: "x-ratelimit-limit-requests",
    format: "integer",
    description:
      "The calling token's request bucket: its burst (MODELGOV_GATEWAY_RATE_BURST). On every answer after the token was recognised, 429 included.",
    example: "20",
  },
  {
    name: "x-ratelimit-remaining-requests",
    format: "integer",
    description: "Requests the token may still make at once (its bucket after this request, rounded down).",
    example: "19",
  },
  {
    name: "x-ratelimit-reset-requests",
    format: "duration (`20ms`, `1.5s`, `6m0s`)",
    description:
      "How long until the bucket is full again, refilled at MODELGOV_GATEWAY_RATE_PER_SEC (OpenAI's format).",
    example: "100ms",
  },
  {
    name: "anthropic-ratelimit-requests-limit",
    format: "integer",
    description: "On /v1/messages: the bucket's burst, as the Anthropic API names it.",
    example: "20",
  },
  {
    name: "anthropic-ratelimit-requests-remaining",
    format: "integer",
    description: "On /v1/messages: requests the token may still make at once.",
    example: "19",
  },
  {
    name: "anthropic-ratelimit-requests-reset",
    format: "RFC 3339 time",
    description: "On /v1/messages: when the bucket is full again (rounded up to the second).",
    example: "2026-12-07T12:00:02Z",
  },
  {
    name: "x-modelgov-model-version",
    format: "<model>@<version>",
    description: "The version that answered.",
    example: "support-assistant@1.1.0",
  },
  {
    name: "x-modelgov-route",
    format: "text",
    description:
      "Why that version answered: `pinned`, `alias:<alias>`, or `split:… bucket=<n>` during a rollout or an experiment; `flag:<key>=<variant> (<reason>); …` when the model's route defers to a flag (`; flag:<key> DISABLED` or an error code when the flag could not decide and the route's split/production served); `; kill-switch <id> -> <version>` when a kill switch took the chosen version out of service; then any fallback taken. On a 503 a kill switch caused: `kill-switch <id>` (docs/kill-switches.md).",
    example: "alias:production",
  },
  {
    name: "x-modelgov-token-count",
    format: "provider <name> | tiktoken <encoding>[; …]",
    description:
      "On POST /v1/messages/count_tokens: how `input_tokens` was counted. `provider anthropic`: Anthropic's own count endpoint answered; `tiktoken o200k_base` or `tiktoken cl100k_base`: an estimate over the translated messages (docs/anthropic.md).",
    example: "tiktoken cl100k_base",
  },
  {
    name: "retry-after",
    format: "seconds",
    description: "On 429 (rate limit) and 503: when to try again.",
    example: "2",
  },
];
