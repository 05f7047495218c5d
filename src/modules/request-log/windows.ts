import {
  histogramQuantile,
  LATENCY_BUCKETS_PER_DOUBLING,
  LATENCY_MAX_BUCKET,
} from "../../engines/rollout/latency.ts";
import type { ErrorCounts, VersionWindow } from "../../engines/rollout/types.ts";
import type { Queryable } from "../../store/db.ts";
import { FEEDBACK_SKEW_MS, groupsKey } from "./rollup.ts";

/**
 * What one version did over a time window, read from the gateway's request log and the
 * feedback joined to it. A request counts for the version the route chose for it (the
 * first step of its fallback path), so a candidate's failures count against the candidate
 * even when the fallback then served the request. In the judge's shape, plus the version id.
 *
 * A window [from, to) is read as its whole minutes from the per-minute roll-ups (rollup.ts)
 * and its ragged ends (at most a minute each) from the raw rows, so a look costs the same
 * whatever the history holds, and reads each part of its window once. The p95 comes from the
 * latency histogram (16 buckets per doubling, log-interpolated), as the judge's test does.
 */
export type WindowMetrics = VersionWindow & {
  versionId: string;
  /** Tokens in and out, summed over the window's requests. */
  tokensIn: number;
  tokensOut: number;
  /** Requests whose answer was a refusal (features.ts; docs/request-log.md for the heuristic). */
  refusals: number;
  /** Requests that asked for JSON and got a text answer; of those, the valid answers. */
  validityChecked: number;
  valid: number;
};

export function emptyWindow(versionId: string): WindowMetrics {
  return {
    versionId,
    requests: 0,
    errors: 0,
    latencyP95Ms: null,
    costUsd: 0,
    costSumSquares: 0,
    latencyHistogram: [],
    feedbackCount: 0,
    successes: 0,
    scoreCount: 0,
    scoreSum: 0,
    scoreSumSquares: 0,
    groups: {},
    tokensIn: 0,
    tokensOut: 0,
    refusals: 0,
    validityChecked: 0,
    valid: 0,
  };
}

/** The sums of one version over (part of) a window: the roll-ups' shape. */
interface Sums {
  requests: number;
  errors: number;
  cost: number;
  costSq: number;
  feedback: number;
  successes: number;
  scores: number;
  scoreSum: number;
  scoreSq: number;
  compared: number;
  agreed: number;
  tokensIn: number;
  tokensOut: number;
  refusals: number;
  checked: number;
  valid: number;
  latency: number[];
  groups: Map<string, { groups: Record<string, string>; n: number; successes: number }>;
}

const emptySums = (): Sums => ({
  requests: 0,
  errors: 0,
  cost: 0,
  costSq: 0,
  feedback: 0,
  successes: 0,
  scores: 0,
  scoreSum: 0,
  scoreSq: 0,
  compared: 0,
  agreed: 0,
  tokensIn: 0,
  tokensOut: 0,
  refusals: 0,
  checked: 0,
  valid: 0,
  latency: [],
  groups: new Map(),
});

type SumsByVersion = Map<string, Sums>;

function sumsOf(m: SumsByVersion, vid: string): Sums {
  let s = m.get(vid);
  if (!s) {
    s = emptySums();
    m.set(vid, s);
  }
  return s;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const ceilTo = (t: number, unit: number) => Math.ceil(t / unit) * unit;
const floorTo = (t: number, unit: number) => Math.floor(t / unit) * unit;
const iso = (t: number) => new Date(t).toISOString();

type Range = [number, number];

/** How a window [from, to) is read: raw rows at its ends, whole minutes, whole hours between. */
export interface WindowParts {
  raw: Range[];
  minutes: Range[];
  hours: Range | null;
}

/**
 * The window split into tiers: raw rows before its first and after its last whole minute,
 * per-minute roll-ups up to its first and from its last whole hour, per-hour roll-ups in
 * between. Each instant of the window is read once, from one tier.
 */
export function splitWindow(from: Date, to: Date): WindowParts {
  const f = from.getTime();
  const t = to.getTime();
  const m0 = ceilTo(f, MINUTE);
  const m1 = floorTo(t, MINUTE);
  if (m0 >= m1) return { raw: [[f, t]], minutes: [], hours: null };
  const raw: Range[] = [];
  if (f < m0) raw.push([f, m0]);
  if (m1 < t) raw.push([m1, t]);
  const h0 = ceilTo(m0, HOUR);
  const h1 = floorTo(m1, HOUR);
  if (h0 >= h1) return { raw, minutes: [[m0, m1]], hours: null };
  const minutes: Range[] = [];
  if (m0 < h0) minutes.push([m0, h0]);
  if (h1 < m1) minutes.push([h1, m1]);
  return { raw, minutes, hours: [h0, h1] };
}

const rawOnly = (from: Date, to: Date): WindowParts => ({
  raw: [[from.getTime(), to.getTime()]],
  minutes: [],
  hours: null,
});

/** The latency histogram bucket of total_ms, as `latencyBucket` computes it. */
const BUCKET = `LEAST(${LATENCY_MAX_BUCKET}, GREATEST(0, floor(${LATENCY_BUCKETS_PER_DOUBLING} * ln(GREATEST(r.total_ms, 1)::float8) / ln(2.0) + 1e-9)))::int`;

/** Up to two ranges as four parameters (the first twice when there is one; none as empty). */
function rangeParams(ranges: Range[]): string[] {
  if (!ranges.length) return [iso(0), iso(0), iso(0), iso(0)];
  const [a, b] = [ranges[0]!, ranges[1] ?? ranges[0]!];
  return [iso(a[0]), iso(a[1]), iso(b[0]), iso(b[1])];
}

/**
 * Served (not mirrored) requests of `model` in the raw ranges ($2..$5), of the versions in $6
 * (all when null), with each one's latest feedback stamped no earlier than an hour before it.
 * $7 is that bound for the earliest range, a constant, so the planner prunes the feedback
 * partitions before it (an expression over the parameters would cost a plan of every one).
 */
const SERVED = `
  WITH r AS (
    SELECT id, at, COALESCE(routed_version_id, '') AS vid, status,
           fallback_path->0->>'outcome' AS first_outcome, total_ms, cost_usd, groups, tokens_in,
           tokens_out, features
      FROM request_log
     WHERE model = $1 AND shadow_of IS NULL AND ((at >= $2 AND at < $3) OR (at >= $4 AND at < $5))
       AND ($6::text[] IS NULL OR routed_version_id = ANY($6::text[]))
  ),
  f AS (
    SELECT DISTINCT ON (f.request_id) f.request_id, f.success, f.score, f.groups
      FROM feedback f JOIN r ON r.id = f.request_id
     WHERE f.at >= $7 AND f.at >= r.at - interval '${FEEDBACK_SKEW_MS} milliseconds'
     ORDER BY f.request_id, f.at DESC, f.id DESC
  )`;

/** Tokens, refusals and JSON validity of the raw rows `r`, as the writers sum them (rollup.ts). */
const OUTCOMES = `sum(r.tokens_in)::int8 AS tokens_in, sum(r.tokens_out)::int8 AS tokens_out,
  count(*) FILTER (WHERE r.features->'refusal' = 'true'::jsonb)::int AS refusals,
  count(*) FILTER (WHERE jsonb_typeof(r.features->'valid') = 'boolean')::int AS checked,
  count(*) FILTER (WHERE r.features->'valid' = 'true'::jsonb)::int AS valid`;

/** A judged request's groups: those its feedback names, else those the request was logged with. */
const GROUPS = "CASE WHEN f.groups = '{}'::jsonb THEN COALESCE(r.groups, '{}'::jsonb) ELSE f.groups END";

interface TotalsRow {
  vid: string;
  requests: number;
  errors: number;
  cost: number | null;
  cost_sq: number | null;
  feedback: number;
  successes: number;
  scores: number;
  score_sum: number | null;
  score_sq: number | null;
  compared: number;
  agreed: number;
  tokens_in: number | string | null;
  tokens_out: number | string | null;
  refusals: number;
  checked: number;
  valid: number;
}

function addTotals(m: SumsByVersion, rows: TotalsRow[]) {
  for (const t of rows) {
    const s = sumsOf(m, t.vid);
    s.requests += Number(t.requests);
    s.errors += Number(t.errors);
    s.cost += Number(t.cost ?? 0);
    s.costSq += Number(t.cost_sq ?? 0);
    s.feedback += Number(t.feedback);
    s.successes += Number(t.successes);
    s.scores += Number(t.scores);
    s.scoreSum += Number(t.score_sum ?? 0);
    s.scoreSq += Number(t.score_sq ?? 0);
    s.compared += Number(t.compared);
    s.agreed += Number(t.agreed);
    s.tokensIn += Number(t.tokens_in ?? 0);
    s.tokensOut += Number(t.tokens_out ?? 0);
    s.refusals += Number(t.refusals);
    s.checked += Number(t.checked);
    s.valid += Number(t.valid);
  }
}

function addLatency(m: SumsByVersion, rows: { vid: string; b: number; n: number }[]) {
  for (const row of rows) {
    const h = sumsOf(m, row.vid).latency;
    for (let i = h.length; i <= row.b; i++) h[i] = 0;
    h[row.b]! += Number(row.n);
  }
}

function addGroups(
  m: SumsByVersion,
  rows: { vid: string; groups: Record<string, string>; n: number; successes: number }[],
) {
  for (const g of rows) {
    const groups = sumsOf(m, g.vid).groups;
    const key = groupsKey(g.groups);
    const cur = groups.get(key) ?? { groups: g.groups, n: 0, successes: 0 };
    cur.n += Number(g.n);
    cur.successes += Number(g.successes);
    groups.set(key, cur);
  }
}

const ROLLUP_TOTALS = `sum(requests)::int AS requests, sum(errors)::int AS errors, sum(cost_usd)::float8 AS cost,
  sum(cost_sq)::float8 AS cost_sq, sum(feedback)::int AS feedback, sum(successes)::int AS successes,
  sum(scores)::int AS scores, sum(score_sum)::float8 AS score_sum, sum(score_sq)::float8 AS score_sq,
  sum(compared)::int AS compared, sum(agreed)::int AS agreed, sum(tokens_in)::int8 AS tokens_in,
  sum(tokens_out)::int8 AS tokens_out, sum(refusals)::int AS refusals,
  sum(validity_checked)::int AS checked, sum(valid)::int AS valid`;

/**
 * The roll-up rows of the minute ranges ($3..$6) and the hour range ($7, $8) of one model's
 * served or mirrored traffic ($2), of the versions in $9 (all when null).
 */
const tiers = (minuteTable: string, hourTable: string, filter: string) => `
  SELECT * FROM ${minuteTable}
   WHERE model = $1 AND ((minute >= $3 AND minute < $4) OR (minute >= $5 AND minute < $6))
     AND ($9::text[] IS NULL OR version_id = ANY($9::text[])) ${filter}
  UNION ALL
  SELECT * FROM ${hourTable}
   WHERE model = $1 AND hour >= $7 AND hour < $8
     AND ($9::text[] IS NULL OR version_id = ANY($9::text[])) ${filter}`;

/** The whole minutes and hours of a window, from the roll-ups. */
async function rollupSums(
  db: Queryable,
  model: string,
  parts: WindowParts,
  shadow: boolean,
  versionIds: readonly string[] | null,
  what: { groups: boolean },
): Promise<SumsByVersion> {
  const out: SumsByVersion = new Map();
  if (!parts.minutes.length && !parts.hours) return out;
  const hours = parts.hours ?? [0, 0];
  const params = [model, shadow, ...rangeParams(parts.minutes), iso(hours[0]), iso(hours[1]), versionIds];
  const rollups = tiers("request_rollup", "request_rollup_hour", "AND shadow = $2");
  addTotals(
    out,
    await db.query<TotalsRow>(
      `SELECT version_id AS vid, ${ROLLUP_TOTALS} FROM (${rollups}) t GROUP BY 1`,
      params,
    ),
  );
  addLatency(
    out,
    await db.query(
      `SELECT version_id AS vid, (u.i - 1)::int AS b, sum(u.n)::int AS n
         FROM (${rollups}) t, unnest(t.latency) WITH ORDINALITY AS u(n, i)
        WHERE u.n > 0 GROUP BY 1, 2`,
      params,
    ),
  );
  if (what.groups && !shadow)
    addGroups(
      out,
      await db.query(
        `SELECT version_id AS vid, groups, sum(n)::int AS n, sum(successes)::int AS successes
           FROM (${tiers("request_group_rollup", "request_group_rollup_hour", "AND $2::boolean IS NOT NULL")}) t
          GROUP BY 1, 2 HAVING sum(n) > 0`,
        params,
      ),
    );
  return out;
}

/** The raw ends of a window (each under a minute), in the roll-ups' shape. */
async function rawSums(
  db: Queryable,
  model: string,
  raw: [number, number][],
  shadow: boolean,
  versionIds: readonly string[] | null,
  parts: { groups: boolean },
): Promise<SumsByVersion> {
  const out: SumsByVersion = new Map();
  if (!raw.length) return out;
  const params: unknown[] = [model, ...rangeParams(raw), versionIds];
  if (shadow) {
    const mirrored = `
      WITH r AS (
        SELECT COALESCE(version_id, '') AS vid, status, total_ms, cost_usd, agreement, tokens_in,
               tokens_out, features
          FROM request_log
         WHERE model = $1 AND shadow_of IS NOT NULL AND ((at >= $2 AND at < $3) OR (at >= $4 AND at < $5))
           AND ($6::text[] IS NULL OR version_id = ANY($6::text[]))
      )`;
    addTotals(
      out,
      await db.query<TotalsRow>(
        `${mirrored}
         SELECT vid, count(*)::int AS requests, count(*) FILTER (WHERE status >= 500)::int AS errors,
                sum(cost_usd)::float8 AS cost, sum(cost_usd * cost_usd)::float8 AS cost_sq,
                0 AS feedback, 0 AS successes, 0 AS scores, 0 AS score_sum, 0 AS score_sq,
                count(agreement)::int AS compared, count(*) FILTER (WHERE agreement)::int AS agreed,
                ${OUTCOMES}
           FROM r GROUP BY 1`,
        params,
      ),
    );
    addLatency(
      out,
      await db.query(
        `${mirrored} SELECT vid, ${BUCKET} AS b, count(*)::int AS n FROM r GROUP BY 1, 2`,
        params,
      ),
    );
    return out;
  }
  params.push(iso(raw[0]![0] - FEEDBACK_SKEW_MS));
  addTotals(
    out,
    await db.query<TotalsRow>(
      `${SERVED}
       SELECT r.vid, count(*)::int AS requests,
              count(*) FILTER (WHERE r.status >= 500 OR (r.first_outcome IS NOT NULL AND r.first_outcome <> 'served'))::int AS errors,
              sum(r.cost_usd)::float8 AS cost, sum(r.cost_usd * r.cost_usd)::float8 AS cost_sq,
              count(f.success)::int AS feedback, count(*) FILTER (WHERE f.success)::int AS successes,
              count(f.score)::int AS scores, sum(f.score)::float8 AS score_sum,
              sum(f.score * f.score)::float8 AS score_sq, 0 AS compared, 0 AS agreed, ${OUTCOMES}
         FROM r LEFT JOIN f ON f.request_id = r.id
        GROUP BY r.vid`,
      params,
    ),
  );
  addLatency(
    out,
    await db.query(`${SERVED} SELECT r.vid, ${BUCKET} AS b, count(*)::int AS n FROM r GROUP BY 1, 2`, params),
  );
  if (parts.groups)
    addGroups(
      out,
      await db.query(
        `${SERVED}
         SELECT r.vid, ${GROUPS} AS groups, count(*)::int AS n, count(*) FILTER (WHERE f.success)::int AS successes
           FROM r JOIN f ON f.request_id = r.id
          WHERE f.success IS NOT NULL
          GROUP BY 1, 2`,
        params,
      ),
    );
  return out;
}

function merge(a: SumsByVersion, b: SumsByVersion): SumsByVersion {
  for (const [vid, s] of b) {
    const t = sumsOf(a, vid);
    t.requests += s.requests;
    t.errors += s.errors;
    t.cost += s.cost;
    t.costSq += s.costSq;
    t.feedback += s.feedback;
    t.successes += s.successes;
    t.scores += s.scores;
    t.scoreSum += s.scoreSum;
    t.scoreSq += s.scoreSq;
    t.compared += s.compared;
    t.agreed += s.agreed;
    t.tokensIn += s.tokensIn;
    t.tokensOut += s.tokensOut;
    t.refusals += s.refusals;
    t.checked += s.checked;
    t.valid += s.valid;
    for (let i = 0; i < s.latency.length; i++) t.latency[i] = (t.latency[i] ?? 0) + (s.latency[i] ?? 0);
    for (const [k, g] of s.groups) {
      const cur = t.groups.get(k) ?? { groups: g.groups, n: 0, successes: 0 };
      cur.n += g.n;
      cur.successes += g.successes;
      t.groups.set(k, cur);
    }
  }
  return a;
}

/** `raw`: read every row of the window, no roll-ups (audit, drill-down, and the tests' reference). */
export interface ReadOptions {
  raw?: boolean;
}

/** The sums over [from, to): whole minutes from the roll-ups, the ends from the raw rows. */
async function windowSums(
  db: Queryable,
  model: string,
  from: Date,
  to: Date,
  shadow: boolean,
  versionIds: readonly string[] | null,
  opts: ReadOptions = {},
): Promise<SumsByVersion> {
  const what = { groups: true };
  const parts = opts.raw ? rawOnly(from, to) : splitWindow(from, to);
  const out = await rollupSums(db, model, parts, shadow, versionIds, what);
  return merge(out, await rawSums(db, model, parts.raw, shadow, versionIds, what));
}

function toWindow(versionId: string, s: Sums | undefined): WindowMetrics {
  const w = emptyWindow(versionId);
  if (!s) return w;
  const latency = Array.from(s.latency, (x) => x ?? 0);
  let last = latency.length;
  while (last > 0 && latency[last - 1] === 0) last--;
  latency.length = last;
  const groups: NonNullable<WindowMetrics["groups"]> = {};
  for (const g of s.groups.values()) {
    if (g.n <= 0) continue;
    for (const [key, value] of Object.entries(g.groups)) {
      const byValue = groups[key] ?? {};
      groups[key] = byValue;
      const cur = byValue[value] ?? { successes: 0, n: 0 };
      byValue[value] = { successes: cur.successes + g.successes, n: cur.n + g.n };
    }
  }
  return {
    ...w,
    requests: s.requests,
    errors: s.errors,
    latencyP95Ms: histogramQuantile(latency, 0.95),
    costUsd: s.cost,
    costSumSquares: s.costSq,
    latencyHistogram: latency,
    feedbackCount: s.feedback,
    successes: s.successes,
    scoreCount: s.scores,
    scoreSum: s.scoreSum,
    scoreSumSquares: s.scoreSq,
    groups,
    tokensIn: s.tokensIn,
    tokensOut: s.tokensOut,
    refusals: s.refusals,
    validityChecked: s.checked,
    valid: s.valid,
  };
}

/** The window [from, to) for the given versions of `model`; versions without traffic get zeros. */
export async function windowMetrics(
  db: Queryable,
  model: string,
  versionIds: readonly string[],
  from: Date,
  to: Date,
  opts: ReadOptions = {},
): Promise<Map<string, WindowMetrics>> {
  const sums = await windowSums(db, model, from, to, false, versionIds, opts);
  return new Map(versionIds.map((id) => [id, toWindow(id, sums.get(id))]));
}

/**
 * Requests and errors per version over [from, to): the fast path's reads, every second, so
 * nothing but two counts (no feedback join, no percentile).
 */
export async function errorCounts(
  db: Queryable,
  model: string,
  versionIds: readonly string[],
  from: Date,
  to: Date,
  opts: ReadOptions = {},
): Promise<Map<string, ErrorCounts>> {
  const parts = opts.raw ? rawOnly(from, to) : splitWindow(from, to);
  const out = new Map(versionIds.map((id) => [id, { requests: 0, errors: 0 }]));
  const add = (rows: { vid: string; requests: number; errors: number }[]) => {
    for (const r of rows) {
      const c = out.get(r.vid);
      if (c)
        out.set(r.vid, { requests: c.requests + Number(r.requests), errors: c.errors + Number(r.errors) });
    }
  };
  if (parts.minutes.length || parts.hours) {
    const hours = parts.hours ?? [0, 0];
    add(
      await db.query(
        `SELECT version_id AS vid, sum(requests)::int AS requests, sum(errors)::int AS errors
           FROM (${tiers("request_rollup", "request_rollup_hour", "AND shadow = $2")}) t GROUP BY 1`,
        [model, false, ...rangeParams(parts.minutes), iso(hours[0]), iso(hours[1]), versionIds],
      ),
    );
  }
  const raw = parts.raw;
  if (raw.length)
    add(
      await db.query(
        `SELECT routed_version_id AS vid, count(*)::int AS requests,
                count(*) FILTER (WHERE status >= 500 OR (fallback_path->0->>'outcome' IS NOT NULL
                                                         AND fallback_path->0->>'outcome' <> 'served'))::int AS errors
           FROM request_log
          WHERE model = $1 AND shadow_of IS NULL AND ((at >= $2 AND at < $3) OR (at >= $4 AND at < $5))
            AND routed_version_id = ANY($6::text[])
          GROUP BY 1`,
        [model, ...rangeParams(raw), versionIds],
      ),
    );
  return out;
}

/** Judged requests of one version over a window that share one set of groups, counted. */
export interface GroupOutcomes {
  versionId: string;
  groups: Record<string, string>;
  n: number;
  successes: number;
}

/**
 * The feedback behind windowMetrics' per-group counts, each request's groups kept whole
 * (counted per distinct set), so attributes can be intersected: the bias-drift job's input.
 */
export async function outcomesByGroups(
  db: Queryable,
  model: string,
  from: Date,
  to: Date,
  opts: ReadOptions = {},
): Promise<GroupOutcomes[]> {
  const sums = await windowSums(db, model, from, to, false, null, opts);
  const out: GroupOutcomes[] = [];
  for (const [versionId, s] of sums) {
    if (!versionId) continue;
    for (const g of s.groups.values())
      if (g.n > 0) out.push({ versionId, groups: g.groups, n: g.n, successes: g.successes });
  }
  return out;
}

/** A version's mirrored (shadow) calls over [from, to): errors, latency, cost and agreement. */
export async function mirrorWindow(
  db: Queryable,
  model: string,
  versionId: string,
  from: Date,
  to: Date,
  opts: ReadOptions = {},
): Promise<WindowMetrics> {
  const s = (await windowSums(db, model, from, to, true, [versionId], opts)).get(versionId);
  return {
    ...toWindow(versionId, s),
    agreementCompared: s?.compared ?? 0,
    agreed: s?.agreed ?? 0,
  };
}
