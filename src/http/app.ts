import { randomUUID } from "node:crypto";
import type { Hono } from "hono";
import { AppError, invalid } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { suspectJson, textProblem, unstorableText } from "../lib/text-guard.ts";
import type { Db } from "../store/db.ts";
import type { AppEnv } from "./context.ts";
import { createRouter } from "./openapi.ts";
import { problemResponse } from "./problem.ts";

export interface AppDeps {
  db: Db;
  /** Resolves a bearer token to its principal, or null. */
  authenticate(token: string): Promise<{ tokenId: string; name: string; roles: string[] } | null>;
  logger: Logger;
  version: string;
  /** Routers mounted under /api/v1. */
  api: Hono<AppEnv>[];
  /** Routers mounted at the root, outside /api/v1 and its bearer auth (GET /metrics). */
  root?: Hono<AppEnv>[];
  /** True once the server is shutting down: readiness answers 503 so no new work is routed here. */
  draining?: () => boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const PUBLIC_API = new Set(["/api/v1/openapi.json"]);

export function createApp(deps: AppDeps) {
  const { logger } = deps;
  const app = createRouter();

  // Request id and actor for every request; the lines the HTTP layer writes about it carry the id.
  // (Passed explicitly, not through AsyncLocalStorage: in Node 20 that puts a hook on every
  // promise in the process, which cost the gateway ~5% of its CPU.)
  app.use("*", async (c, next) => {
    const given = c.req.header("x-request-id");
    const requestId = given && REQUEST_ID.test(given) ? given : `req_${randomUUID()}`;
    c.set("ctx", { actor: "anonymous", requestId, roles: [] });
    const started = performance.now();
    await next();
    c.header("x-request-id", requestId);
    const ms = Math.round((performance.now() - started) * 10) / 10;
    logger.info(
      {
        requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms,
        actor: c.get("ctx").actor,
      },
      "request",
    );
  });

  // Every API call carries a bearer token; the principal becomes the request's actor and roles.
  app.use("/api/v1/*", async (c, next) => {
    if (PUBLIC_API.has(c.req.path)) return next();
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const principal = match ? await deps.authenticate(match[1]!) : null;
    if (!principal) {
      c.header("www-authenticate", 'Bearer realm="modelgov"');
      throw new AppError(
        "unauthenticated",
        match
          ? "the bearer token is unknown, revoked or expired"
          : "send an API token: Authorization: Bearer <token>",
        {
          errors: [{ field: "authorization", reason: match ? "invalid token" : "missing bearer token" }],
        },
      );
    }
    const ctx = c.get("ctx");
    c.set("ctx", { ...ctx, actor: principal.name, roles: principal.roles, tokenId: principal.tokenId });
    await next();
  });

  // Text the store cannot hold (a NUL, a lone surrogate) in the path, the query or a JSON body
  // is refused here with the field named; the store would answer it with an error.
  app.use("/api/v1/*", async (c, next) => {
    const url = new URL(c.req.url);
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      throw invalid("path", "malformed percent-encoding");
    }
    const inPath = textProblem(path);
    if (inPath) throw invalid("path", inPath);
    for (const [key, value] of url.searchParams) {
      const reason = textProblem(key) ?? textProblem(value);
      if (reason) throw invalid(`query.${textProblem(key) ? "(name)" : key}`, reason);
    }
    if (
      c.req.method !== "GET" &&
      c.req.method !== "HEAD" &&
      /json/i.test(c.req.header("content-type") ?? "")
    ) {
      const text = await c.req.text();
      if (suspectJson(text)) {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return next(); // malformed JSON: the route's own parsing names it
        }
        const p = unstorableText(body, "body");
        if (p) throw new AppError("invalid_input", `${p.field}: ${p.reason}`, { errors: [p] });
      }
    }
    await next();
  });

  app.get("/healthz", (c) => c.json({ status: "ok", version: deps.version }));
  app.get("/readyz", async (c) => {
    if (deps.draining?.()) return c.json({ status: "draining", store: deps.db.kind }, 503);
    try {
      await deps.db.ping();
      return c.json({ status: "ready", store: deps.db.kind });
    } catch (err) {
      logger.warn({ err, requestId: c.get("ctx").requestId }, "store not reachable");
      return c.json({ status: "unavailable", store: deps.db.kind }, 503);
    }
  });

  for (const r of deps.root ?? []) app.route("/", r);

  const api = createRouter();
  for (const r of deps.api) api.route("/", r);
  app.route("/api/v1", api);
  app.doc31("/api/v1/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "modelgov API",
      version: deps.version,
      description:
        "The control plane under /api/v1 (registry, cards, approvals, rollouts, experiments, monitoring, flags ...; errors are application/problem+json, RFC 9457) and the gateway's data plane under /v1 (tag gateway: OpenAI's and Anthropic's wire shapes).",
      license: { name: "Apache-2.0", url: "https://www.apache.org/licenses/LICENSE-2.0" },
    },
    servers: [{ url: "/" }],
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer" });

  app.notFound((c) =>
    problemResponse(new AppError("not_found", `no route for ${c.req.method} ${c.req.path}`), c, logger),
  );
  app.onError((err, c) => problemResponse(err, c, logger));
  return app;
}

export type App = ReturnType<typeof createApp>;
