import { latencyBucket } from "../../engines/rollout/latency.ts";
import type { SpoolRow } from "../../lib/spool.ts";
import type { Queryable } from "../../store/db.ts";
import { addFeatureCounts, applyFeatureDeltas, type FeatureRow } from "./feature-rollup.ts";
import { featureCounts, outcomeCounts } from "./features.ts";
import type { LatestFeedback } from "./latest-feedback.ts";
import { applyPathDeltas, type PathRow, pathRow } from "./path-rollup.ts";

export {
  type LatestFeedback,
  latestFeedback,
  newer,
  replaceFeedback,
  toLatest,
} from "./latest-feedback.ts";

/*
 * The roll-ups' write side: what one batch of request-log or feedback rows adds to the
 * per-minute sums (request_rollup, request_group_rollup, client_rollup) and to the exact
 * assignment-unit counts of scoped splits (split_units, split_unit_counts). The writers run
 * this in the transaction that inserts the batch, so the sums never disagree with the rows.
 *
 * The rules are the raw windows' (windows.ts), row for row:
 * - a served request counts for the version its route chose (`routed_version_id`), a mirrored
 *   one (`shadow_of`) for the version that answered;
 * - an error is a 5xx, or (served) a first attempt that was not served;
 * - the feedback that counts is the latest per request (by time, then id), joined to the
 *   request's minute: feedback that arrives later moves the old answer out and the new one in;
 * - a judged request's groups are those its feedback names, else those it was logged with.
 *
 * Ordering: a request batch takes the roll-up lock shared, a feedback batch exclusive. So a
 * feedback batch sees every request committed before it, and a request batch every feedback
 * committed before it; one of the two always finds the other (never both, never neither).
 */

/** pg_advisory_xact_lock key of the roll-ups (transaction-scoped: safe behind a pooler). */
export const ROLLUP_LOCK = 7070016;

/** Feedback stamped this long before its request still counts (replicas' clocks differ). */
export const FEEDBACK_SKEW_MS = 60 * 60 * 1000;

/** What the roll-ups need of a served request to place its feedback. */
export interface RequestFacts {
  id: string;
  model: string;
  minute: string;
  versionId: string;
  groups: Record<string, string> | null;
  /** Its path through a router version (route_key), when one handled it. */
  path?: string | null;
}

interface RollupRow {
  model: string;
  minute: string;
  version_id: string;
  shadow: boolean;
  requests: number;
  errors: number;
  cost_usd: number;
  cost_sq: number;
  latency: number[];
  feedback: number;
  successes: number;
  scores: number;
  score_sum: number;
  score_sq: number;
  compared: number;
  agreed: number;
  tokens_in: number;
  tokens_out: number;
  refusals: number;
  validity_checked: number;
  valid: number;
}
interface GroupRow {
  model: string;
  minute: string;
  version_id: string;
  groups: Record<string, string>;
  n: number;
  successes: number;
}
interface ClientRow {
  model: string;
  minute: string;
  client: string;
  version_id: string;
  version: string;
  requests: number;
  errors: number;
  last_seen: string;
}
interface UnitRow {
  scope: string;
  version_id: string;
  subject: string | null;
  at: string;
}

/** The minute an instant falls in, as an ISO string. */
export function minuteOf(at: unknown): string {
  const t = new Date(at as string).getTime();
  return new Date(t - (((t % 60_000) + 60_000) % 60_000)).toISOString();
}

/** Groups as a stable key: keys sorted (jsonb's own order differs; equality does not). */
export function groupsKey(g: Record<string, string>): string {
  return JSON.stringify(
    Object.keys(g)
      .sort()
      .map((k) => [k, g[k]]),
  );
}

const isEmpty = (g: Record<string, string> | null | undefined) => !g || Object.keys(g).length === 0;

/** The hour a minute (ISO string) falls in. */
export const hourOf = (minute: string) => `${minute.slice(0, 13)}:00:00.000Z`;

/** What one batch adds to the roll-ups. */
export class RollupDeltas {
  readonly rollups = new Map<string, RollupRow>();
  readonly groups = new Map<string, GroupRow>();
  readonly clients = new Map<string, ClientRow>();
  readonly units: UnitRow[] = [];
  /** Served requests per feature bin, per model, hour and routed version (feature-rollup.ts). */
  readonly features = new Map<string, FeatureRow>();
  /** Router requests per model, hour, routed version and path (path-rollup.ts). */
  readonly paths = new Map<string, PathRow>();

  private rollup(model: string, minute: string, versionId: string, shadow: boolean): RollupRow {
    const key = `${model}\u0000${minute}\u0000${versionId}\u0000${shadow}`;
    let r = this.rollups.get(key);
    if (!r) {
      r = {
        model,
        minute,
        version_id: versionId,
        shadow,
        requests: 0,
        errors: 0,
        cost_usd: 0,
        cost_sq: 0,
        latency: [],
        feedback: 0,
        successes: 0,
        scores: 0,
        score_sum: 0,
        score_sq: 0,
        compared: 0,
        agreed: 0,
        tokens_in: 0,
        tokens_out: 0,
        refusals: 0,
        validity_checked: 0,
        valid: 0,
      };
      this.rollups.set(key, r);
    }
    return r;
  }

  /** A request-log row (the table's column names, as the writer inserts it). */
  addRequest(row: SpoolRow): void {
    const shadow = row.shadow_of !== null && row.shadow_of !== undefined;
    const model = String(row.model);
    const minute = minuteOf(row.at);
    const versionId = ((shadow ? row.version_id : row.routed_version_id) as string | null) ?? "";
    const r = this.rollup(model, minute, versionId, shadow);
    const status = Number(row.status);
    const first = (row.fallback_path as { outcome?: string }[] | null)?.[0]?.outcome;
    r.requests++;
    const error = status >= 500 || (!shadow && first !== undefined && first !== null && first !== "served");
    if (error) r.errors++;
    const cost = Number(row.cost_usd ?? 0);
    r.cost_usd += cost;
    r.cost_sq += cost * cost;
    // total_ms is stored as a REAL: bucket the value the raw windows will read back.
    const b = latencyBucket(Math.fround(Number(row.total_ms)));
    for (let i = r.latency.length; i <= b; i++) r.latency[i] = 0;
    r.latency[b]!++;
    r.tokens_in += Number(row.tokens_in ?? 0);
    r.tokens_out += Number(row.tokens_out ?? 0);
    const o = outcomeCounts(row);
    if (o.refusal) r.refusals++;
    if (o.checked) r.validity_checked++;
    if (o.valid) r.valid++;
    if (shadow) {
      if (row.agreement !== null && row.agreement !== undefined) {
        r.compared++;
        if (row.agreement === true) r.agreed++;
      }
      return;
    }
    addFeatureCounts(this.features, model, hourOf(minute), versionId, featureCounts(row));
    if (typeof row.route_key === "string") {
      const p = pathRow(this.paths, model, hourOf(minute), versionId, row.route_key);
      p.requests++;
      if (error) p.errors++;
      p.cost_usd += cost;
    }
    const client = (row.client as string | null) ?? "";
    const servedId = (row.version_id as string | null) ?? "";
    const served = (row.version as string | null) ?? "";
    const ck = `${model}\u0000${minute}\u0000${client}\u0000${servedId}\u0000${served}`;
    let c = this.clients.get(ck);
    if (!c) {
      c = {
        model,
        minute,
        client,
        version_id: servedId,
        version: served,
        requests: 0,
        errors: 0,
        last_seen: "",
      };
      this.clients.set(ck, c);
    }
    c.requests++;
    if (status >= 400) c.errors++;
    const at = new Date(row.at as string).toISOString();
    if (at > c.last_seen) c.last_seen = at;
    if (row.split_scope)
      this.units.push({
        scope: String(row.split_scope),
        version_id: versionId,
        subject: (row.subject_hash as string | null) ?? null,
        at,
      });
  }

  /**
   * Adds the feature sums of rows already counted in requests (the feature backfill: rows
   * logged before the features migration).
   */
  addFeatureSums(
    model: string,
    minute: string,
    versionId: string,
    shadow: boolean,
    s: { tokensIn: number; tokensOut: number; refusals: number; checked: number; valid: number },
  ): void {
    const r = this.rollup(model, minute, versionId, shadow);
    r.tokens_in += s.tokensIn;
    r.tokens_out += s.tokensOut;
    r.refusals += s.refusals;
    r.validity_checked += s.checked;
    r.valid += s.valid;
  }

  /** Adds (sign 1) or takes back (sign -1) a request's latest feedback. */
  addFeedback(r: RequestFacts, f: LatestFeedback, sign: 1 | -1): void {
    const row = this.rollup(r.model, r.minute, r.versionId, false);
    if (f.success !== null) {
      row.feedback += sign;
      if (f.success) row.successes += sign;
      const groups = isEmpty(f.groups) ? (r.groups ?? {}) : f.groups;
      const gk = `${r.model}\u0000${r.minute}\u0000${r.versionId}\u0000${groupsKey(groups)}`;
      let g = this.groups.get(gk);
      if (!g) {
        g = { model: r.model, minute: r.minute, version_id: r.versionId, groups, n: 0, successes: 0 };
        this.groups.set(gk, g);
      }
      g.n += sign;
      if (f.success) g.successes += sign;
      if (r.path) {
        const p = pathRow(this.paths, r.model, hourOf(r.minute), r.versionId, r.path);
        p.feedback += sign;
        if (f.success) p.successes += sign;
      }
    }
    if (f.score !== null) {
      row.scores += sign;
      row.score_sum += sign * f.score;
      row.score_sq += sign * f.score * f.score;
    }
  }
}

const nonZero = (r: RollupRow) =>
  r.requests !== 0 ||
  r.feedback !== 0 ||
  r.scores !== 0 ||
  r.successes !== 0 ||
  r.score_sum !== 0 ||
  r.score_sq !== 0 ||
  r.compared !== 0 ||
  r.tokens_in !== 0 ||
  r.tokens_out !== 0 ||
  r.refusals !== 0 ||
  r.validity_checked !== 0;

/** The minute deltas summed per hour (the hourly tier gets the same sums, coarser). */
function hourly<T extends { model: string; minute: string }>(
  rows: readonly T[],
  key: (r: T) => string,
  add: (into: T, r: T) => void,
): T[] {
  const out = new Map<string, T>();
  for (const r of rows) {
    const h = { ...r, minute: hourOf(r.minute) };
    const k = `${key(h)}\u0000${h.minute}`;
    const cur = out.get(k);
    if (cur) add(cur, r);
    else out.set(k, { ...h, ...("latency" in h ? { latency: [...(h.latency as number[])] } : {}) });
  }
  return [...out.values()];
}

function addRollup(into: RollupRow, r: RollupRow) {
  into.requests += r.requests;
  into.errors += r.errors;
  into.cost_usd += r.cost_usd;
  into.cost_sq += r.cost_sq;
  for (let i = 0; i < r.latency.length; i++) into.latency[i] = (into.latency[i] ?? 0) + (r.latency[i] ?? 0);
  into.feedback += r.feedback;
  into.successes += r.successes;
  into.scores += r.scores;
  into.score_sum += r.score_sum;
  into.score_sq += r.score_sq;
  into.compared += r.compared;
  into.agreed += r.agreed;
  into.tokens_in += r.tokens_in;
  into.tokens_out += r.tokens_out;
  into.refusals += r.refusals;
  into.validity_checked += r.validity_checked;
  into.valid += r.valid;
}

const upsertRollup = (table: string, time: string) => `
  INSERT INTO ${table} AS t (model, ${time}, version_id, shadow, requests, errors, cost_usd,
         cost_sq, latency, feedback, successes, scores, score_sum, score_sq, compared, agreed,
         tokens_in, tokens_out, refusals, validity_checked, valid)
  SELECT model, minute, version_id, shadow, requests, errors, cost_usd, cost_sq, latency, feedback,
         successes, scores, score_sum, score_sq, compared, agreed, tokens_in, tokens_out, refusals,
         validity_checked, valid
    FROM json_to_recordset($1::json) AS r(model text, minute timestamptz, version_id text,
         shadow boolean, requests int, errors int, cost_usd float8, cost_sq float8, latency int[],
         feedback int, successes int, scores int, score_sum float8, score_sq float8, compared int,
         agreed int, tokens_in int8, tokens_out int8, refusals int, validity_checked int, valid int)
   ORDER BY model, minute, version_id, shadow
  ON CONFLICT (model, ${time}, version_id, shadow) DO UPDATE SET
         requests = t.requests + EXCLUDED.requests, errors = t.errors + EXCLUDED.errors,
         cost_usd = t.cost_usd + EXCLUDED.cost_usd, cost_sq = t.cost_sq + EXCLUDED.cost_sq,
         latency = modelgov_add_counts(t.latency, EXCLUDED.latency),
         feedback = t.feedback + EXCLUDED.feedback, successes = t.successes + EXCLUDED.successes,
         scores = t.scores + EXCLUDED.scores, score_sum = t.score_sum + EXCLUDED.score_sum,
         score_sq = t.score_sq + EXCLUDED.score_sq, compared = t.compared + EXCLUDED.compared,
         agreed = t.agreed + EXCLUDED.agreed, tokens_in = t.tokens_in + EXCLUDED.tokens_in,
         tokens_out = t.tokens_out + EXCLUDED.tokens_out, refusals = t.refusals + EXCLUDED.refusals,
         validity_checked = t.validity_checked + EXCLUDED.validity_checked,
         valid = t.valid + EXCLUDED.valid`;

const upsertGroups = (table: string, time: string) => `
  INSERT INTO ${table} AS t (model, ${time}, version_id, groups, n, successes)
  SELECT model, minute, version_id, groups, n, successes
    FROM json_to_recordset($1::json) AS r(model text, minute timestamptz, version_id text, groups jsonb,
         n int, successes int)
   ORDER BY model, minute, version_id, groups
  ON CONFLICT (model, ${time}, version_id, groups) DO UPDATE SET
         n = t.n + EXCLUDED.n, successes = t.successes + EXCLUDED.successes`;

const ROLLUP_KEY = (r: RollupRow) => `${r.model}\u0000${r.version_id}\u0000${r.shadow}`;
const GROUP_KEY = (g: GroupRow) => `${g.model}\u0000${g.version_id}\u0000${groupsKey(g.groups)}`;

/**
 * Writes the deltas: one upsert per roll-up table (minute, then hour), rows in key order and
 * tables in one order, so two batches never wait on each other in a cycle. The feature
 * roll-up goes last: its caps rely on the hour rows written before it (feature-rollup.ts).
 */
export async function applyDeltas(
  q: Queryable,
  d: RollupDeltas,
  opts: {
    /**
     * Writes the rows that add nothing too: the feature backfill (feature-backfill.ts) upserts
     * the hour rows of every version it adds bins to, so that it waits for the writers of that
     * hour, and they for it, as two batches do (feature-rollup.ts).
     */
    keepEmpty?: boolean;
  } = {},
): Promise<void> {
  const rollups = [...d.rollups.values()].filter((r) => opts.keepEmpty || nonZero(r));
  if (rollups.length) {
    await q.query(upsertRollup("request_rollup", "minute"), [JSON.stringify(rollups)]);
    await q.query(upsertRollup("request_rollup_hour", "hour"), [
      JSON.stringify(hourly(rollups, ROLLUP_KEY, addRollup)),
    ]);
  }
  const groups = [...d.groups.values()].filter((g) => g.n !== 0 || g.successes !== 0);
  if (groups.length) {
    await q.query(upsertGroups("request_group_rollup", "minute"), [JSON.stringify(groups)]);
    const hours = hourly(groups, GROUP_KEY, (into, g) => {
      into.n += g.n;
      into.successes += g.successes;
    }).filter((g) => g.n !== 0 || g.successes !== 0);
    if (hours.length)
      await q.query(upsertGroups("request_group_rollup_hour", "hour"), [JSON.stringify(hours)]);
  }
  if (d.clients.size)
    await q.query(
      `INSERT INTO client_rollup AS t (model, minute, client, version_id, version, requests, errors, last_seen)
       SELECT * FROM json_to_recordset($1::json) AS r(model text, minute timestamptz, client text,
              version_id text, version text, requests int, errors int, last_seen timestamptz)
        ORDER BY model, minute, client, version_id, version
       ON CONFLICT (model, minute, client, version_id, version) DO UPDATE SET
              requests = t.requests + EXCLUDED.requests, errors = t.errors + EXCLUDED.errors,
              last_seen = GREATEST(t.last_seen, EXCLUDED.last_seen)`,
      [JSON.stringify([...d.clients.values()])],
    );
  if (d.units.length)
    await q.query(
      `WITH u AS (
         SELECT * FROM json_to_recordset($1::json) AS r(scope text, version_id text, subject text, at timestamptz)
       ), ins AS (
         INSERT INTO split_units (scope, version_id, subject, first_at)
         SELECT scope, version_id, subject, min(at) FROM u WHERE subject IS NOT NULL
          GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
         ON CONFLICT DO NOTHING
         RETURNING scope, version_id, first_at
       ), counted AS (
         SELECT scope, version_id, count(*) AS n, max(first_at) AS last_at FROM ins GROUP BY 1, 2
         UNION ALL
         SELECT scope, version_id, count(*), max(at) FROM u WHERE subject IS NULL GROUP BY 1, 2
       )
       INSERT INTO split_unit_counts AS t (scope, version_id, units, last_at)
       SELECT scope, version_id, sum(n), max(last_at) FROM counted GROUP BY 1, 2 ORDER BY 1, 2
       ON CONFLICT (scope, version_id) DO UPDATE SET
              units = t.units + EXCLUDED.units, last_at = GREATEST(t.last_at, EXCLUDED.last_at)`,
      [JSON.stringify(d.units)],
    );
  if (d.paths.size) await applyPathDeltas(q, d.paths);
  if (d.features.size) await applyFeatureDeltas(q, d.features);
}
