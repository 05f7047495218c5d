import type { Logger } from "../../../lib/logger.ts";
import type { Db } from "../../../store/db.ts";
import { STATE_CHANNEL } from "../../audit/index.ts";
import { loadSnapshot, type RoutingSnapshot } from "./snapshot.ts";

export interface RoutingState {
  current(): RoutingSnapshot;
  refresh(): Promise<RoutingSnapshot>;
  onChange(listener: (s: RoutingSnapshot) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Routing state held in memory, refreshed when any change commits (NOTIFY carries only the
 * new audit position) and every `safetyIntervalMs` in case a notification was missed. If
 * the store is down the gateway keeps routing on the last snapshot it has.
 */
export function createRoutingState(deps: {
  db: Db;
  logger: Logger;
  approvedIds: (ids: string[]) => Promise<Set<string>>;
  safetyIntervalMs?: number;
}): RoutingState {
  const { db, logger } = deps;
  let snapshot: RoutingSnapshot | null = null;
  let running: Promise<RoutingSnapshot> | null = null;
  let unlisten: (() => Promise<void>) | null = null;
  let timer: NodeJS.Timeout | null = null;
  const listeners: ((s: RoutingSnapshot) => void)[] = [];

  async function load(): Promise<RoutingSnapshot> {
    const next = await loadSnapshot(db, deps.approvedIds);
    if (!snapshot || next.position !== snapshot.position || next !== snapshot) {
      snapshot = next;
      for (const l of listeners) l(next);
    }
    return next;
  }

  /**
   * Coalesces bursts: at most one load runs. A refresh asked for while one runs gets the
   * load that follows it (which sees every change committed before the ask), shared by all
   * who asked meanwhile.
   */
  let next: Promise<RoutingSnapshot> | null = null;
  function refresh(): Promise<RoutingSnapshot> {
    if (running) {
      next ??= running.then(
        () => refresh(),
        () => refresh(),
      );
      return next;
    }
    next = null;
    running = load()
      .catch((err) => {
        logger.warn({ err }, "routing state refresh failed; serving on the last snapshot");
        if (!snapshot) throw err;
        return snapshot;
      })
      .finally(() => {
        running = null;
      });
    return running;
  }

  return {
    current() {
      if (!snapshot) throw new Error("routing state not loaded yet");
      return snapshot;
    },
    refresh,
    onChange(listener) {
      listeners.push(listener);
    },
    async start() {
      await refresh();
      unlisten = await db.listen(STATE_CHANNEL, (payload) => {
        if (!snapshot || Number(payload) > snapshot.position) void refresh();
      });
      timer = setInterval(() => void refresh(), deps.safetyIntervalMs ?? 5000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await unlisten?.();
      await running?.catch(() => {});
    },
  };
}
