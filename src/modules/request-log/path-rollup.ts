import type { Queryable } from "../../store/db.ts";

/*
 * The hourly path roll-up's write side: per model, hour, routed (router) version and path
 * (route-key.ts), served requests, errors, cost, and the latest feedback's counts
 * (request_path_rollup_hour). The writers add to it in the transaction that inserts each
 * batch, by request_rollup's rules: a request counts for the version its route chose, an error
 * is a 5xx or a first attempt not served, and the feedback that counts is the latest per
 * request, so a superseding answer moves the request's counts here as it does there
 * (RollupDeltas.addFeedback). Only requests a router handled (a path) are counted.
 */

export interface PathRow {
  model: string;
  hour: string;
  version_id: string;
  path: string;
  requests: number;
  errors: number;
  cost_usd: number;
  feedback: number;
  successes: number;
}

/** The row of (model, hour, version, path) in a batch's deltas, made when first asked for. */
export function pathRow(
  into: Map<string, PathRow>,
  model: string,
  hour: string,
  versionId: string,
  path: string,
): PathRow {
  const key = `${model}\u0000${hour}\u0000${versionId}\u0000${path}`;
  let r = into.get(key);
  if (!r) {
    r = {
      model,
      hour,
      version_id: versionId,
      path,
      requests: 0,
      errors: 0,
      cost_usd: 0,
      feedback: 0,
      successes: 0,
    };
    into.set(key, r);
  }
  return r;
}

const UPSERT = `
  INSERT INTO request_path_rollup_hour AS t (model, hour, version_id, path, requests, errors,
         cost_usd, feedback, successes)
  SELECT model, hour, version_id, path, requests, errors, cost_usd, feedback, successes
    FROM json_to_recordset($1::json) AS r(model text, hour timestamptz, version_id text, path text,
         requests int, errors int, cost_usd float8, feedback int, successes int)
   ORDER BY model, hour, version_id, path
  ON CONFLICT (model, hour, version_id, path) DO UPDATE SET
         requests = t.requests + EXCLUDED.requests, errors = t.errors + EXCLUDED.errors,
         cost_usd = t.cost_usd + EXCLUDED.cost_usd, feedback = t.feedback + EXCLUDED.feedback,
         successes = t.successes + EXCLUDED.successes`;

/** Writes a batch's path counts: one statement, rows in key order (no waits in a cycle). */
export async function applyPathDeltas(q: Queryable, rows: Map<string, PathRow>): Promise<void> {
  const changed = [...rows.values()].filter(
    (r) => r.requests !== 0 || r.feedback !== 0 || r.successes !== 0 || r.cost_usd !== 0,
  );
  if (changed.length) await q.query(UPSERT, [JSON.stringify(changed)]);
}
