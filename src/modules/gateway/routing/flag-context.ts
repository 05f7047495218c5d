import type { IncomingHttpHeaders } from "node:http";
import type { EvaluationContext } from "../../../engines/flags/index.ts";

/** `x-modelgov-context-<name>: <value>` sets the attribute `<name>` of a route flag's context. */
export const CONTEXT_HEADER_PREFIX = "x-modelgov-context-";

/**
 * The evaluation context a route's flag sees for one request: the OpenAI `metadata` fields as
 * attributes (`metadata.tenant` is `tenant`), then `x-modelgov-context-<name>` headers (a
 * header wins over a metadata field of the same name: the caller's proxy sets headers), then
 * `user` (the OpenAI field) and `targetingKey`: the subject the sticky split hashes
 * (`x-modelgov-subject`, else `user`). Neither of the last two can be overridden by metadata
 * or a header. Built only when the route has a flag.
 */
export function flagContext(
  headers: IncomingHttpHeaders,
  body: Readonly<Record<string, unknown>>,
  subject: string | undefined,
): EvaluationContext {
  const c: Record<string, unknown> = {};
  const meta = body.metadata;
  if (meta && typeof meta === "object" && !Array.isArray(meta))
    for (const [k, v] of Object.entries(meta)) if (v !== undefined && v !== null) c[k] = v;
  for (const name in headers) {
    if (!name.startsWith(CONTEXT_HEADER_PREFIX) || name.length === CONTEXT_HEADER_PREFIX.length) continue;
    const v = headers[name];
    c[name.slice(CONTEXT_HEADER_PREFIX.length)] = Array.isArray(v) ? v.join(",") : v;
  }
  if (typeof body.user === "string") c.user = body.user;
  else delete c.user;
  if (subject !== undefined) c.targetingKey = subject;
  else delete c.targetingKey;
  return c;
}
