import type { Clock } from "../../lib/clock.ts";
import type { GatewayDeps } from "./http/deps.ts";
import { type BreakerRegistry, executeWithFallback, type retryPolicy } from "./resilience/index.ts";

/**
 * The gateway's `execute`: a version chain with its retries, breakers and fallback, within the
 * call's deadline and signal. The runtime and the test gateways build it the same way.
 */
export function chainExecutor(opts: {
  breakers: BreakerRegistry;
  retry: ReturnType<typeof retryPolicy>;
  clock: Clock;
}): GatewayDeps["execute"] {
  return async (chain, attempt, { deadlineMs, signal }) => {
    const out = await executeWithFallback(chain, (v, ctx) => attempt(v, ctx.signal ?? signal, ctx.attempt), {
      breakers: opts.breakers,
      retry: opts.retry,
      signal,
      deadline: Date.now() + deadlineMs,
      label: (v) => v.version,
      clock: opts.clock,
      // Every adapter call hands the signal to its transport (Deadlines listens to it).
      attemptHonoursSignal: true,
    });
    return { result: out.result, servedBy: out.servedBy, path: out.path };
  };
}
