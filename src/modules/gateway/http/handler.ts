import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { can } from "../../../http/permissions.ts";
import type { Logger } from "../../../lib/logger.ts";
import type { Json } from "../../../providers/types.ts";
import { RequestLimitError } from "../limits/index.ts";
import { listedModels } from "../routing/listing.ts";
import { isMulti, isRefusal, needsClassifier, type RouteRefusal, throughRouter } from "../routing/resolve.ts";
import { routerInput } from "../routing/router-input.ts";
import type { GenAiOperation, RequestSpan } from "../tracing/index.ts";
import { countTokens } from "./anthropic/count-tokens.ts";
import { requireMaxTokens } from "./anthropic/max-tokens.ts";
import { askedRoute, type FlagHooks } from "./asked-route.ts";
import { classifyRoute } from "./chat/classify.ts";
import { chatRequestOf, handleChat, parseGroups } from "./chat/index.ts";
import { handleMulti } from "./chat/multi.ts";
import type { GatewayDeps, Principal } from "./deps.ts";
import { handleEmbeddings } from "./embeddings/index.ts";
import { GatewayError } from "./gateway-error.ts";
import { createPrincipals, tokenOf } from "./principals.ts";
import { rateLimitHeaders } from "./rate-headers.ts";
import { type Dialect, sendError, sendJson } from "./respond.ts";

/** The paths answered by a model call, traced as this GenAI operation (docs/tracing.md). */
const TRACED: Readonly<Record<string, GenAiOperation>> = {
  "/v1/chat/completions": "chat",
  "/v1/messages": "chat",
  "/v1/responses": "chat",
  "/v1/completions": "text_completion",
  "/v1/embeddings": "embeddings",
};
const ROUTES = new Set([
  "POST /v1/chat/completions",
  "POST /v1/messages",
  "POST /v1/messages/count_tokens",
  "POST /v1/responses",
  "POST /v1/completions",
  "GET /v1/models",
  "POST /v1/feedback",
  "POST /v1/embeddings",
]);

// Request ids: a random per-process prefix and a counter. Unique across replicas and
// restarts, without a CSPRNG call on every request (it showed in the gateway profile).
const ID_PREFIX = `req_${randomBytes(6).toString("hex")}`;
let idCounter = 0;
const nextRequestId = () => `${ID_PREFIX}${(++idCounter).toString(36).padStart(6, "0")}`;

/** The API each path speaks (errors and answers take its shape); any other path is Chat Completions'. */
const DIALECT_OF: Record<string, Dialect> = {
  "/v1/messages": "anthropic",
  "/v1/messages/count_tokens": "anthropic",
  "/v1/responses": "responses",
  "/v1/completions": "completions",
};

/**
 * The data plane: `/v1/chat/completions`, `/v1/messages` (and its `count_tokens`), `/v1/responses`,
 * `/v1/completions`, `/v1/embeddings`, `/v1/models` (and `/v1/models/{id}`), `/v1/feedback`.
 * A raw node:http handler (no framework on the hot path); returns false for other paths.
 * The front door: route, authorise, limit, read and validate, resolve the model; a refusal
 * anywhere is a GatewayError, rendered in one place. The call itself is `handleChat`'s.
 */
export function createGatewayHandler(deps: GatewayDeps, logger: Logger) {
  const principals = createPrincipals(deps);
  // A route flag's clock and counter, bound once: a request only adds its context's closure.
  const flagNow = deps.now ? () => deps.now!().getTime() : undefined;
  const nowMs = flagNow ?? Date.now;
  const observeFlag = deps.observeFlag?.bind(deps);
  const flagHooks: FlagHooks = { now: flagNow, observe: observeFlag };
  const observeRefusal = deps.observeRefusal?.bind(deps);

  /**
   * The caller, allowed to use the gateway within its rate; else the refusal. Its bucket's
   * state goes into `base`, the headers of every answer from here on (a 429's too).
   */
  async function authorise(
    req: IncomingMessage,
    dialect: Dialect,
    base: Record<string, string>,
  ): Promise<Principal> {
    const known = principals.principalOf(req);
    const principal = known instanceof Promise ? await known : known;
    if (!principal)
      throw new GatewayError(
        401,
        // A wrong token is told so, not asked for one.
        tokenOf(req)
          ? "the API token is unknown, revoked or expired"
          : "send an API token: Authorization: Bearer <token> (or x-api-key)",
        { field: "authorization", headers: { "www-authenticate": 'Bearer realm="modelgov"' } },
      );
    if (!can(principal.roles, "gateway:use"))
      throw new GatewayError(
        403,
        `the token's roles (${principal.roles.join(", ")}) do not include gateway use (agent or admin)`,
        { field: "authorization" },
      );
    const limit = deps.rateLimit(principal.tokenId);
    rateLimitHeaders(limit, dialect, nowMs, base);
    if (!limit.ok)
      // Say what the limit is and how to change it: a first traffic loop hits it unawares.
      throw new GatewayError(
        429,
        `rate limit exceeded for token '${principal.name}': this server allows ${limit.ratePerSec} requests/s per token, in bursts of up to ${limit.limit}; retry after ${limit.retryAfterSec} s, or have the operator raise MODELGOV_GATEWAY_RATE_PER_SEC and MODELGOV_GATEWAY_RATE_BURST`,
        {
          field: "authorization",
          headers: { "retry-after": String(limit.retryAfterSec) },
          extra: {
            rateLimit: {
              ratePerSec: limit.ratePerSec,
              burst: limit.limit,
              settings: ["MODELGOV_GATEWAY_RATE_PER_SEC", "MODELGOV_GATEWAY_RATE_BURST"],
            },
          },
        },
      );
    return principal;
  }

  /** The body as a JSON object, within the size and time limits. */
  async function jsonBody(req: IncomingMessage): Promise<Json> {
    try {
      const body: Json = JSON.parse((await deps.readBody(req)).toString("utf8") || "null");
      if (!body || typeof body !== "object" || Array.isArray(body))
        throw new GatewayError(400, "the body must be a JSON object", { field: "body" });
      // Hashing or sampling the body for the log recurses: past this depth it overflowed the stack.
      if (nestedDeeperThan(body, MAX_BODY_DEPTH))
        throw new GatewayError(400, `the body must not be nested deeper than ${MAX_BODY_DEPTH} levels`, {
          field: "body",
        });
      return body;
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      if (err instanceof RequestLimitError)
        throw new GatewayError(err.status, err.message, { field: "body", cause: err });
      throw new GatewayError(400, `malformed JSON body: ${(err as Error).message}`, {
        field: "body",
        cause: err,
      });
    }
  }

  async function serve(
    req: IncomingMessage,
    res: ServerResponse,
    route: string,
    dialect: Dialect,
    requestId: string,
    base: Record<string, string>,
    trace: RequestSpan | undefined,
  ): Promise<void> {
    const modelId = route.startsWith("GET /v1/models/") ? route.slice(15) : undefined;
    if (!ROUTES.has(route) && !modelId) throw new GatewayError(404, `no gateway route for ${route}`);
    const principal = await authorise(req, dialect, base);
    if (route === "GET /v1/models") return sendJson(res, 200, listModels(deps), base);
    if (modelId) return sendJson(res, 200, modelOf(deps, modelId), base);
    const body = await jsonBody(req);
    if (route === "POST /v1/feedback") {
      const r = await deps.feedback(principal, body);
      return sendJson(res, r.status, r.body, { ...base, ...r.headers });
    }
    if (route === "POST /v1/messages/count_tokens")
      return countTokens({ deps, req, res, body, requestId, base, refused, flag: { now: flagNow } });
    if (route === "POST /v1/embeddings")
      return handleEmbeddings({
        deps,
        req,
        res,
        body,
        principal,
        requestId,
        base,
        refused,
        flag: flagHooks,
        trace,
      });
    if (dialect === "anthropic") requireMaxTokens(body);
    const chat = chatRequestOf(body, dialect, deps.translate);
    trace?.request(chat);
    const snapshot = deps.routing.current();
    const { subject, asked } = askedRoute(snapshot, req, chat, chat.model, requestId, flagHooks);
    if (isRefusal(asked)) throw refused(asked);
    // A router version picks a tier from the request; everything else passes through.
    let resolution = throughRouter(snapshot, asked, () => routerInput(chat), subject, requestId);
    const groups = parseGroups(req.headers["x-modelgov-groups"]);
    // An LLM classifier is asked before the tier is known: the one asynchronous router.
    if (needsClassifier(resolution))
      resolution = await classifyRoute(
        { deps, req, res, dialect, chat, principal, requestId, subject, groups, base, trace },
        resolution,
        snapshot,
      );
    if (isRefusal(resolution)) throw refused(resolution);
    const diverted = asked.killed ?? ("killed" in resolution ? resolution.killed : undefined);
    if (diverted) deps.observeKill?.(diverted.scope, "diverted");
    if (isMulti(resolution))
      return handleMulti(
        { deps, req, res, dialect, chat, principal, requestId, subject, groups, base, trace },
        resolution,
        snapshot,
      );
    await handleChat({
      deps,
      req,
      res,
      dialect,
      chat,
      resolution,
      principal,
      requestId,
      subject,
      groups,
      base,
      trace,
    });
  }

  /** A routing refusal as the caller's error; a kill switch's names the switch, why and by whom. */
  function refused(r: RouteRefusal): GatewayError {
    const sw = r.killSwitch;
    if (!sw) return new GatewayError(r.status, r.detail, { field: "body.model" });
    deps.observeKill?.(sw.scope, "refused");
    return new GatewayError(r.status, r.detail, {
      field: "body.model",
      code: r.code,
      headers: { "x-modelgov-route": `kill-switch ${sw.id}` },
      extra: { killSwitch: sw },
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?", 1)[0]!;
    const dialect = DIALECT_OF[path] ?? "openai";
    const requestId = nextRequestId();
    // The id under the names the SDKs read: `x-request-id` (OpenAI's `_request_id`),
    // `request-id` (Anthropic's); `x-modelgov-request-id` is the one feedback documents.
    const base: Record<string, string> = {
      "x-modelgov-request-id": requestId,
      "x-request-id": requestId,
      "request-id": requestId,
    };
    // A chat call's server span; tracing off, this check is all a span costs.
    const trace =
      deps.tracing && req.method === "POST" && TRACED[path]
        ? deps.tracing.startRequest(req.headers, requestId, TRACED[path])
        : undefined;
    let crashed = false;
    try {
      await serve(req, res, `${req.method} ${path}`, dialect, requestId, base, trace);
    } catch (err) {
      crashed = !(err instanceof GatewayError);
      if (crashed) logger.error({ err, requestId }, "gateway request failed");
      const answer =
        err instanceof GatewayError
          ? err
          : new GatewayError(500, `internal error; the request id is in the server log: ${requestId}`);
      observeRefusal?.(answer.status, answer.code);
      sendError(res, dialect, answer, { requestId, headers: base });
    } finally {
      trace?.end(crashed ? 500 : res.statusCode);
    }
  }

  return {
    /** Handles /v1/* and returns true; leaves every other path to the control plane. */
    handles: (url: string | undefined) => !!url && url.startsWith("/v1/"),
    handle: (req: IncomingMessage, res: ServerResponse) =>
      handle(req, res).catch((err) => {
        logger.error({ err }, "gateway request failed");
        observeRefusal?.(500, "internal");
        sendError(
          res,
          "openai",
          new GatewayError(500, "internal error; the request id is in the server log"),
        );
      }),
  };
}

const MAX_BODY_DEPTH = 200;

/** Whether a parsed JSON value nests deeper than `max` (iterative: the value may be deeper than the stack). */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** The models a gateway token may call: the servable aliases (routing/listing.ts). */
function listModels(deps: GatewayDeps) {
  const data: Json[] = listedModels(deps.routing.current()).map(modelObject);
  return { object: "list", data };
}

const modelObject = (m: { id: string; version: string }): Json => ({
  id: m.id,
  object: "model",
  owned_by: "modelgov",
  created: 0,
  version: m.version,
});

/** One model /v1/models lists (GET /v1/models/{id}); any other id is a 404. */
function modelOf(deps: GatewayDeps, encoded: string): Json {
  let id: string;
  try {
    id = decodeURIComponent(encoded);
  } catch {
    id = encoded;
  }
  const m = listedModels(deps.routing.current()).find((x) => x.id === id);
  if (!m)
    throw new GatewayError(
      404,
      `the model '${id}' does not exist or cannot be called with this token: GET /v1/models lists those that can`,
      { field: "model" },
    );
  return modelObject(m);
}
