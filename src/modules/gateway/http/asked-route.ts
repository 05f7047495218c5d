import type { IncomingMessage } from "node:http";
import { flagContext } from "../routing/flag-context.ts";
import { type Resolution, type RouteRefusal, resolve } from "../routing/resolve.ts";
import type { RoutingSnapshot } from "../routing/snapshot.ts";

/** The route flag's clock and counter, as the front door binds them once. */
export type FlagHooks = Pick<NonNullable<Parameters<typeof resolve>[5]>, "now" | "observe">;

/**
 * Who a request is for (`x-modelgov-subject`, else the body's `user`) and where the model it
 * names resolves, its route's flag reading the request's context: the one resolution every
 * endpoint that calls (or counts for) a model makes, so they cannot disagree on a version.
 */
export function askedRoute(
  snapshot: RoutingSnapshot,
  req: IncomingMessage,
  body: Readonly<Record<string, unknown>>,
  model: string,
  requestId: string,
  flag: FlagHooks,
): { subject: string | undefined; asked: Resolution | RouteRefusal } {
  const subject =
    (req.headers["x-modelgov-subject"] as string | undefined) ??
    (typeof body.user === "string" ? body.user : undefined);
  const asked = resolve(snapshot, model, subject, requestId, false, {
    context: () => flagContext(req.headers, body, subject),
    now: flag.now,
    observe: flag.observe,
  });
  return { subject, asked };
}
