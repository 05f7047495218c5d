import { createServer, type Server } from "node:http";
import { systemClock } from "../lib/clock.ts";
import { createLogger } from "../lib/logger.ts";
import { chainExecutor } from "../modules/gateway/chain-executor.ts";
import type { GatewayDeps } from "../modules/gateway/http/deps.ts";
import { createGatewayHandler } from "../modules/gateway/http/handler.ts";
import { createBreakerRegistry, retryPolicy } from "../modules/gateway/resilience/index.ts";
import type { RoutingSnapshot } from "../modules/gateway/routing/snapshot.ts";
import type { GatewayTracing } from "../modules/gateway/tracing/index.ts";
import { createAdapters } from "../providers/index.ts";
import { passThroughTranslate, readWholeBody } from "./gateway-fakes.ts";

/**
 * A gateway on 127.0.0.1 over a fixed routing snapshot and the real adapters, retries (two
 * attempts a version, 1 ms apart), breakers and fallback, with `tracing` as given (undefined:
 * off). Token `good` is an agent; nothing is logged. For the tracing tests and bench:tracing.
 */
export async function startTracedGateway(
  snapshot: RoutingSnapshot,
  tracing: GatewayTracing | undefined,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const breakers = createBreakerRegistry({ clock: systemClock });
  const retry = retryPolicy({ maxAttempts: 2, baseMs: 1, maxMs: 1 });
  const deps: GatewayDeps = {
    routing: { current: () => snapshot, onChange: () => {} },
    authenticate: async (t) => (t === "good" ? { tokenId: "tok_1", name: "bot", roles: ["agent"] } : null),
    adapters: createAdapters(),
    execute: chainExecutor({ breakers, retry, clock: systemClock }),
    translate: passThroughTranslate,
    readBody: readWholeBody,
    rateLimit: () => ({ ok: true, retryAfterSec: 0, limit: 1e9, ratePerSec: 1e9 }),
    log: () => {},
    feedback: async () => ({ status: 202, body: {} }),
    apiKeyFor: () => "sk-test",
    bodies: { mode: "off" },
    ...(tracing ? { tracing } : {}),
  };
  const handler = createGatewayHandler(deps, createLogger("silent"));
  const server = createServer((req, res) => void handler.handle(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
