import type { Queryable } from "../../store/db.ts";
import { type RouterPaths, routerPaths } from "../request-log/index.ts";

const HOUR = 3_600_000;
/** How far back the status looks at paths: a week, from the hour (so the roll-up's hours are whole). */
export const PATH_WINDOW_MS = 7 * 24 * HOUR;

/**
 * Success and cost per path of the production version over the last 7 days, when it is a
 * router (null otherwise): the hourly path roll-up, and the raw rows of the hour under way.
 */
export async function productionPaths(
  db: Queryable,
  model: string,
  versionId: string,
  now: Date,
): Promise<(RouterPaths & { from: string; to: string }) | null> {
  const from = new Date(Math.floor(now.getTime() / HOUR) * HOUR - PATH_WINDOW_MS);
  const [v] = await routerPaths(db, model, [versionId], from, now);
  return v ? { ...v, from: from.toISOString(), to: now.toISOString() } : null;
}
