import type { IncomingMessage } from "node:http";
import type { GatewayDeps, Principal } from "./deps.ts";
import { GatewayError } from "./gateway-error.ts";

const AUTH_TTL_MS = 30_000;
/**
 * How long a known token's re-check may wait on the store before its last answer stands. A
 * partitioned database does not fail, it stops answering: without this, a cut-off replica's
 * gateway would hang every caller once their entries turn 30 s old.
 */
const STORE_WAIT_MS = 1_000;

/** The token the request carries (OpenAI's bearer or Anthropic's x-api-key), if any. */
export function tokenOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const token = header?.startsWith("Bearer ")
    ? header.slice(7).trim()
    : (req.headers["x-api-key"] as string | undefined);
  return token || undefined;
}

/**
 * Token → principal, kept briefly so the hot path rarely waits on the store. Entries are
 * refreshed on every committed change (a revocation is one) rather than dropped, so a later
 * store outage still finds them.
 */
export function createPrincipals(deps: Pick<GatewayDeps, "authenticate" | "routing">) {
  const auth = new Map<string, { p: Principal | null; at: number }>();
  const inflight = new Map<string, Promise<Principal | null>>();
  deps.routing.onChange(() => {
    for (const v of auth.values()) v.at = 0;
  });

  async function lookUp(token: string, hit: { p: Principal | null } | undefined) {
    let p: Principal | null;
    let timer: NodeJS.Timeout | undefined;
    try {
      const asked = deps.authenticate(token);
      if (hit) {
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("the store did not answer")), STORE_WAIT_MS);
        });
        // Settles the check even when it loses the race (no unhandled rejection).
        asked.catch(() => {});
        p = await Promise.race([asked, late]);
      } else p = await asked;
    } catch (err) {
      // The store is away: keep serving tokens we know (the last answer stands) until it returns.
      if (hit) return hit.p;
      throw new GatewayError(503, "cannot check the token while the store is unavailable", {
        field: "authorization",
        headers: { "retry-after": "5" },
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }
    if (auth.size > 10_000) auth.clear();
    auth.set(token, { p, at: Date.now() });
    return p;
  }

  return {
    /** Synchronous when the token is known and fresh (the usual case): no promise on the hot path. */
    principalOf(req: IncomingMessage): Principal | null | Promise<Principal | null> {
      const token = tokenOf(req);
      if (!token) return null;
      const hit = auth.get(token);
      if (hit && Date.now() - hit.at < AUTH_TTL_MS) return hit.p;
      // One check per token at a time: requests arriving meanwhile share it (against a store that
      // has stopped answering, each would otherwise leave one more query queued in the pool).
      let asked = inflight.get(token);
      if (!asked) {
        asked = lookUp(token, hit).finally(() => inflight.delete(token));
        inflight.set(token, asked);
      }
      return asked;
    },
  };
}
