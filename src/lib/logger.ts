import { AsyncLocalStorage } from "node:async_hooks";
import { type DestinationStream, type Logger, pino } from "pino";

/** Per-request fields (the request id) that every log line written during the request carries. */
export const logContext = new AsyncLocalStorage<{ requestId: string }>();

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      name: "modelgov",
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: () => {
        const ctx = logContext.getStore();
        return ctx ? { requestId: ctx.requestId } : {};
      },
    },
    destination as DestinationStream | undefined,
  );
}
