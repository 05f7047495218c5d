import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { can } from "../../../http/permissions.ts";
import type { Logger } from "../../../lib/logger.ts";
import type { ChatRequest, Json } from "../../../providers/types.ts";
import { isRefusal, resolve } from "../routing/resolve.ts";
import { handleChat } from "./chat.ts";
import type { GatewayDeps, Principal } from "./deps.ts";
import { type Dialect, sendError, sendJson } from "./respond.ts";

const AUTH_TTL_MS = 30_000;
const ROUTES = new Set([
  "POST /v1/chat/completions",
  "POST /v1/messages",
  "GET /v1/models",
  "POST /v1/feedback",
]);

// Request ids: a random per-process prefix and a counter. Unique across replicas and
// restarts, without a CSPRNG call on every request (it showed in the gateway profile).
const ID_PREFIX = `req_${randomBytes(6).toString("hex")}`;
let idCounter = 0;
const nextRequestId = () => `${ID_PREFIX}${(++idCounter).toString(36).padStart(6, "0")}`;

/**
 * The data plane: `/v1/chat/completions`, `/v1/messages`, `/v1/models`, `/v1/feedback`.
 * A raw node:http handler (no framework on the hot path); returns false for other paths.
 */
export function createGatewayHandler(deps: GatewayDeps, logger: Logger) {
  // Token → principal, kept briefly and dropped on every committed change (a revocation
  // is a change), so the hot path rarely waits on the store.
  const auth = new Map<string, { p: Principal | null; at: number }>();
  // Entries are refreshed on every committed change (a revocation is one) rather than dropped,
  // so a later store outage still finds them.
  deps.routing.onChange(() => {
    for (const v of auth.values()) v.at = 0;
  });

  /** The token the request carries (OpenAI's bearer or Anthropic's x-api-key), if any. */
  function tokenOf(req: IncomingMessage): string | undefined {
    const header = req.headers.authorization;
    const token = header?.startsWith("Bearer ")
      ? header.slice(7).trim()
      : (req.headers["x-api-key"] as string | undefined);
    return token || undefined;
  }

  /** Synchronous when the token is known and fresh (the usual case): no promise on the hot path. */
  function principalOf(req: IncomingMessage): Principal | null | Promise<Principal | null> {
    const token = tokenOf(req);
    if (!token) return null;
    const hit = auth.get(token);
    if (hit && Date.now() - hit.at < AUTH_TTL_MS) return hit.p;
    return lookUp(token, hit);
  }

  async function lookUp(token: string, hit: { p: Principal | null } | undefined) {
    let p: Principal | null;
    try {
      p = await deps.authenticate(token);
    } catch (err) {
      // The store is away: keep serving tokens we know (the last answer stands) until it returns.
      if (hit) return hit.p;
      throw Object.assign(new Error("cannot check the token while the store is unavailable"), {
        status: 503,
        cause: err,
      });
    }
    if (auth.size > 10_000) auth.clear();
    auth.set(token, { p, at: Date.now() });
    return p;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? "/";
    const path = url.split("?", 1)[0]!;
    const dialect: Dialect = path === "/v1/messages" ? "anthropic" : "openai";
    const requestId = nextRequestId();
    const base = { "x-modelgov-request-id": requestId };
    const route = `${req.method} ${path}`;
    if (!ROUTES.has(route))
      return sendError(res, dialect, 404, `no gateway route for ${route}`, { requestId, headers: base });

    let principal: Principal | null;
    try {
      const known = principalOf(req);
      principal = known instanceof Promise ? await known : known;
    } catch (err) {
      return sendError(res, dialect, 503, (err as Error).message, {
        field: "authorization",
        requestId,
        headers: { ...base, "retry-after": "5" },
      });
    }
    if (!principal)
      return sendError(
        res,
        dialect,
        401,
        // A wrong token is told so, not asked for one.
        tokenOf(req)
          ? "the API token is unknown, revoked or expired"
          : "send an API token: Authorization: Bearer <token> (or x-api-key)",
        {
          field: "authorization",
          requestId,
          headers: { ...base, "www-authenticate": 'Bearer realm="modelgov"' },
        },
      );
    if (!can(principal.roles, "gateway:use"))
      return sendError(
        res,
        dialect,
        403,
        `the token's roles (${principal.roles.join(", ")}) do not include gateway use (agent or admin)`,
        {
          field: "authorization",
          requestId,
          headers: base,
        },
      );
    const limit = deps.rateLimit(principal.tokenId);
    if (!limit.ok)
      // Say what the limit is and how to change it: a first traffic loop hits it unawares.
      return sendError(
        res,
        dialect,
        429,
        `rate limit exceeded for token '${principal.name}': this server allows ${limit.ratePerSec} requests/s per token, in bursts of up to ${limit.limit}; retry after ${limit.retryAfterSec} s, or have the operator raise MODELGOV_GATEWAY_RATE_PER_SEC and MODELGOV_GATEWAY_RATE_BURST`,
        {
          field: "authorization",
          requestId,
          headers: { ...base, "retry-after": String(limit.retryAfterSec) },
          extra: {
            rateLimit: {
              ratePerSec: limit.ratePerSec,
              burst: limit.limit,
              settings: ["MODELGOV_GATEWAY_RATE_PER_SEC", "MODELGOV_GATEWAY_RATE_BURST"],
            },
          },
        },
      );

    if (route === "GET /v1/models") return sendJson(res, 200, listModels(deps), base);

    let body: Json;
    try {
      const raw = await deps.readBody(req);
      body = JSON.parse(raw.toString("utf8") || "null");
      if (!body || typeof body !== "object" || Array.isArray(body))
        throw Object.assign(new Error("the body must be a JSON object"), { status: 400 });
      // Hashing or sampling the body for the log recurses: past this depth it overflowed the stack.
      if (nestedDeeperThan(body, MAX_BODY_DEPTH))
        throw Object.assign(new Error(`the body must not be nested deeper than ${MAX_BODY_DEPTH} levels`), {
          status: 400,
        });
    } catch (err) {
      const e = err as { status?: number; message: string };
      return sendError(
        res,
        dialect,
        e.status ?? 400,
        e.status ? e.message : `malformed JSON body: ${e.message}`,
        { field: "body", requestId, headers: base },
      );
    }

    if (route === "POST /v1/feedback") {
      const r = await deps.feedback(principal, body);
      return sendJson(res, r.status, r.body, { ...base, ...r.headers });
    }

    let chat: ChatRequest;
    try {
      chat = dialect === "anthropic" ? deps.translate.fromAnthropicRequest(body) : (body as ChatRequest);
    } catch (err) {
      return sendError(res, dialect, 400, `cannot read the request: ${(err as Error).message}`, {
        field: "body",
        requestId,
        headers: base,
      });
    }
    if (typeof chat.model !== "string" || !chat.model)
      return sendError(
        res,
        dialect,
        400,
        "model: required, the name of a registered model (optionally @alias or @version)",
        { field: "body.model", requestId, headers: base },
      );
    if (!Array.isArray(chat.messages) || chat.messages.length === 0)
      return sendError(res, dialect, 400, "messages: required, a non-empty array", {
        field: "body.messages",
        requestId,
        headers: base,
      });

    const badMessage = messageProblem(chat.messages);
    if (badMessage)
      return sendError(res, dialect, 400, `${badMessage.field.slice(5)}: ${badMessage.reason}`, {
        field: badMessage.field,
        requestId,
        headers: base,
      });

    const subject =
      (req.headers["x-modelgov-subject"] as string | undefined) ??
      (typeof chat.user === "string" ? chat.user : undefined);
    const resolution = resolve(deps.routing.current(), chat.model, subject, requestId);
    if (isRefusal(resolution))
      return sendError(res, dialect, resolution.status, resolution.detail, {
        field: "body.model",
        requestId,
        headers: base,
      });
    await handleChat({
      deps,
      logger,
      req,
      res,
      dialect,
      chat,
      resolution,
      principal,
      requestId,
      subject,
      base,
    });
  }

  return {
    /** Handles /v1/* and returns true; leaves every other path to the control plane. */
    handles: (url: string | undefined) => !!url && url.startsWith("/v1/"),
    handle: (req: IncomingMessage, res: ServerResponse) =>
      handle(req, res).catch((err) => {
        logger.error({ err }, "gateway request failed");
        sendError(res, "openai", 500, "internal error; the request id is in the server log");
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

/** The models a gateway token may call: those with a servable production version, and their aliases. */
function listModels(deps: GatewayDeps) {
  const data: Json[] = [];
  for (const m of deps.routing.current().models.values()) {
    for (const [alias, version] of Object.entries(m.aliases)) {
      const v = m.versions.get(version);
      if (!v || v.refusal) continue;
      data.push({
        id: alias === "production" ? m.name : `${m.name}@${alias}`,
        object: "model",
        owned_by: "modelgov",
        created: 0,
        version: v.version,
      });
    }
  }
  return { object: "list", data };
}

const MESSAGE_ROLES = new Set(["system", "developer", "user", "assistant", "tool", "function"]);

/**
 * The first message that is not the shape every provider adapter reads: an object with a known
 * role and content that is text, a list of typed parts, or absent (an assistant's tool call).
 * Anything else reached the adapters and failed there as a 502 from the upstream.
 */
export function messageProblem(messages: unknown[]): { field: string; reason: string } | null {
  for (const [i, m] of messages.entries()) {
    const at = `body.messages.${i}`;
    if (!m || typeof m !== "object" || Array.isArray(m)) return { field: at, reason: "must be an object" };
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role !== "string" || !MESSAGE_ROLES.has(role))
      return { field: `${at}.role`, reason: `must be one of ${[...MESSAGE_ROLES].join(", ")}` };
    if (content === undefined || content === null || typeof content === "string") continue;
    if (!Array.isArray(content))
      return { field: `${at}.content`, reason: "must be a string or an array of content parts" };
    for (const [j, part] of content.entries())
      if (!part || typeof part !== "object" || typeof (part as { type?: unknown }).type !== "string")
        return { field: `${at}.content.${j}`, reason: "must be an object with a type" };
  }
  return null;
}
