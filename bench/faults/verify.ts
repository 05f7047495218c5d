import { systemClock } from "../../src/lib/clock.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { createFeedbackWriter } from "../../src/modules/feedback/index.ts";
import { createRequestLogWriter } from "../../src/modules/request-log/index.ts";
import { type Db, openPglite, openPostgres } from "../../src/store/db.ts";

/** What a round acknowledged, by kind: gateway request ids, model names, feedback ids. */
export interface Acknowledged {
  gateway: string[];
  "control-plane": string[];
  feedback: string[];
}

const QUERIES: Record<keyof Acknowledged, string> = {
  gateway: "SELECT id AS k FROM request_log WHERE id = ANY($1::text[])",
  "control-plane": "SELECT name AS k FROM models WHERE name = ANY($1::text[])",
  feedback: "SELECT id AS k FROM feedback WHERE id = ANY($1::text[])",
};

/**
 * After the server is gone (killed or stopped): opens its store the way the next start would
 * (the embedded one recovers from its WAL), replays what the request log and feedback spooled
 * (the same writer code a start runs), and returns, per kind, the acknowledged keys that are
 * not in the store.
 */
export async function missingAfter(
  store: { kind: "pglite"; pgdata: string } | { kind: "postgres"; url: string },
  spoolDir: string,
  acked: Acknowledged,
): Promise<{ missing: Record<keyof Acknowledged, string[]>; replayed: number; openMs: number }> {
  const t0 = performance.now();
  const db: Db =
    store.kind === "pglite" ? await openPglite(store.pgdata) : openPostgres(store.url, { max: 2 });
  const openMs = Math.round(performance.now() - t0);
  try {
    const logger = createLogger("silent");
    let replayed = 0;
    for (const w of [
      createRequestLogWriter({ db, clock: systemClock, logger, spoolDir }),
      createFeedbackWriter({ db, clock: systemClock, logger, spoolDir }),
    ]) {
      const r = await w.replaySpool();
      if (r.remainingFiles) throw new Error(`spool replay left ${r.remainingFiles} file(s) in ${spoolDir}`);
      replayed += r.replayed;
      await w.stop();
    }
    const missing = {} as Record<keyof Acknowledged, string[]>;
    for (const kind of Object.keys(QUERIES) as (keyof Acknowledged)[]) {
      const keys = acked[kind];
      const found = new Set(
        keys.length ? (await db.query<{ k: string }>(QUERIES[kind], [keys])).map((r) => r.k) : [],
      );
      missing[kind] = keys.filter((k) => !found.has(k));
    }
    return { missing, replayed, openMs };
  } finally {
    await db.close();
  }
}
