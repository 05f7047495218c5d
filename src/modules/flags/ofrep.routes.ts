// OpenFeature Remote Evaluation Protocol (OFREP v1): any OpenFeature SDK with an OFREP provider
// evaluates modelgov flags. Single: POST /ofrep/v1/evaluate/flags/{key} answers 200 with
// {key, value, reason, variant, metadata}, or 400/404 with {key, errorCode, errorDetails}.
// Bulk: POST /ofrep/v1/evaluate/flags answers {flags: [...]} with an ETag (a hash of the body:
// the flags and the context decide it), and 304 when If-None-Match names it. Bearer tokens as
// the API's; the `flags:evaluate` permission.

import { createHash } from "node:crypto";
import { Hono } from "hono";
import type { EvaluationContext, Resolution } from "../../engines/flags/index.ts";
import type { AppEnv } from "../../http/context.ts";
import { can } from "../../http/permissions.ts";
import { coalesced } from "../../lib/coalesce.ts";
import type { FlagsService } from "./flags.service.ts";

type Authenticate = (token: string) => Promise<{ tokenId: string; name: string; roles: string[] } | null>;

const STATUS: Record<string, 400 | 404 | 500> = {
  FLAG_NOT_FOUND: 404,
  PARSE_ERROR: 400,
  TARGETING_KEY_MISSING: 400,
  INVALID_CONTEXT: 400,
  TYPE_MISMATCH: 400,
  GENERAL: 500,
};

function wire(r: Resolution) {
  return r.reason === "ERROR"
    ? { key: r.key, errorCode: r.errorCode, errorDetails: r.errorDetails }
    : { key: r.key, value: r.value, reason: r.reason, variant: r.variant, metadata: {} };
}

/**
 * A resolution's OFREP JSON, built once: a compiled flag answers with resolutions built at
 * compile time, so a bulk body is a join of strings, not N objects stringified per request.
 */
const wired = new WeakMap<Resolution, string>();
function wireJson(r: Resolution): string {
  let json = wired.get(r);
  if (json === undefined) {
    json = JSON.stringify(wire(r));
    wired.set(r, json);
  }
  return json;
}

/** The bulk answer for these resolutions: its body and its ETag (a hash of the body: the flags and the context decide it). */
export function bulkAnswer(resolutions: readonly Resolution[]): { body: string; etag: string } {
  const body = `{"flags":[${resolutions.map(wireJson).join(",")}]}`;
  return { body, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"` };
}

/** The request's context, or the OFREP error it is: a body that is not JSON, a context that is not an object. */
async function contextOf(
  req: Request,
): Promise<EvaluationContext | { errorCode: string; errorDetails: string }> {
  const text = await req.text();
  if (text.trim() === "") return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    return { errorCode: "PARSE_ERROR", errorDetails: `the body is not JSON: ${(e as Error).message}` };
  }
  if (body === null || typeof body !== "object" || Array.isArray(body))
    return { errorCode: "PARSE_ERROR", errorDetails: "the body is an object: { context: {...} }" };
  const context = (body as { context?: unknown }).context ?? {};
  if (context === null || typeof context !== "object" || Array.isArray(context))
    return { errorCode: "INVALID_CONTEXT", errorDetails: "context is an object of attributes" };
  const tk = (context as { targetingKey?: unknown }).targetingKey;
  if (tk !== undefined && typeof tk !== "string")
    return { errorCode: "INVALID_CONTEXT", errorDetails: "context.targetingKey is a string" };
  return context as EvaluationContext;
}

const isError = (c: unknown): c is { errorCode: string; errorDetails: string } =>
  typeof (c as { errorCode?: unknown }).errorCode === "string" &&
  typeof (c as { errorDetails?: unknown }).errorDetails === "string";

export function ofrepRoutes(deps: { flags: FlagsService; authenticate: Authenticate }) {
  const app = new Hono<AppEnv>();
  // An SDK's poll and its flags' evaluations come at once with one token: they share a lookup
  // that started after they arrived (a revoked token is refused as promptly as before).
  const authenticate = coalesced(deps.authenticate);

  app.use("/ofrep/v1/*", async (c, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
    const principal = match ? await authenticate(match[1]!) : null;
    if (!principal) {
      c.header("www-authenticate", 'Bearer realm="modelgov"');
      return c.json({ errorDetails: "send an API token: Authorization: Bearer <token>" }, 401);
    }
    if (!can(principal.roles, "flags:evaluate"))
      return c.json({ errorDetails: "this needs the 'flags:evaluate' permission" }, 403);
    c.set("ctx", {
      ...c.get("ctx"),
      actor: principal.name,
      roles: principal.roles,
      tokenId: principal.tokenId,
    });
    await next();
  });

  app.post("/ofrep/v1/evaluate/flags/:key", async (c) => {
    const key = c.req.param("key");
    const context = await contextOf(c.req.raw);
    if (isError(context)) return c.json({ key, ...context }, 400);
    const r = await deps.flags.evaluate(key, context);
    return c.json(wire(r), r.reason === "ERROR" ? (STATUS[r.errorCode] ?? 500) : 200);
  });

  app.post("/ofrep/v1/evaluate/flags", async (c) => {
    const context = await contextOf(c.req.raw);
    if (isError(context)) return c.json(context, 400);
    const { body, etag } = bulkAnswer(await deps.flags.evaluateAll(context));
    c.header("etag", etag);
    const given = c.req.header("if-none-match");
    if (given?.split(",").some((t) => t.trim().replace(/^W\//, "") === etag)) return c.body(null, 304);
    return c.body(body, 200, { "content-type": "application/json" });
  });

  return app;
}
