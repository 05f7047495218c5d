import type { Server, ServerResponse } from "node:http";

/**
 * Graceful drain for a node:http server. Node's own `server.close()` stops accepting
 * connections but keeps answering on busy keep-alive ones for as long as their clients keep
 * sending (Node 20), which is how a loaded server kept working for 19 s after SIGTERM. Here,
 * once `close()` is called:
 *   - the listener is closed and idle connections are closed at once;
 *   - an answer in progress whose headers have not gone out carries `Connection: close`; one
 *     already streaming closes its connection as soon as it ends;
 *   - a request that still arrives on an open connection is answered, with `Connection: close`;
 *   - whatever is still open at `timeoutMs` is cut.
 * So each connection gets at most one more answer after its current one.
 */
export function createDrain(server: Server, opts: { timeoutMs: number }) {
  let draining = false;
  /** Answers in progress, so that the one on each busy connection can be made its last. */
  const inFlight = new Set<ServerResponse>();
  let closing: Promise<{ cut: boolean; ms: number }> | undefined;
  return {
    /** True from `close()` on: readiness answers 503. */
    draining: () => draining,
    /** Call first thing in the request listener. */
    track(res: ServerResponse) {
      if (draining) {
        res.setHeader("connection", "close");
        return;
      }
      inFlight.add(res);
      res.once("close", () => inFlight.delete(res));
    },
    /** Starts draining; resolves once every connection is closed (`cut` when the deadline closed some). */
    close(): Promise<{ cut: boolean; ms: number }> {
      closing ??= new Promise((resolve) => {
        const started = performance.now();
        draining = true;
        let cut = false;
        for (const res of inFlight) {
          if (!res.headersSent) res.setHeader("connection", "close");
          // Its 'close' comes after the connection went idle: close the idle ones then.
          else res.once("close", () => server.closeIdleConnections());
        }
        const deadline = setTimeout(() => {
          cut = true;
          server.closeAllConnections();
        }, opts.timeoutMs);
        deadline.unref();
        server.close(() => {
          clearTimeout(deadline);
          resolve({ cut, ms: Math.round(performance.now() - started) });
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
