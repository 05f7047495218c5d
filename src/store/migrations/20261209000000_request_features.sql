-- Features per request and their roll-ups (issue 17: monitoring and the retraining loop).
--
-- * request_log.features: what the gateway derived from the request and its answer, never
--   the text itself (src/modules/request-log/features.ts): messages, the script of the last
--   user message, tools offered, tool calls, refusal, JSON validity, a short label, the finish
--   reason, the OpenAI metadata (cut). Added on the parent: every day partition has it.
-- * request_rollup and request_rollup_hour: tokens in and out, refusals, JSON validity checked
--   and valid, summed like the other columns (the writers, rollup.ts).
-- * request_feature_rollup_hour: per model, hour and routed version, served requests per
--   feature bin: counts on fixed bins (modelgov_count_bin), categorical values with a cap of
--   distinct bins per feature (src/modules/request-log/feature-rollup.ts), so a monitor
--   compares distributions from hour rows whatever the history holds.
-- modelgov_feature_values is the one statement of which bins a raw row counts in; the raw
-- reads use it, and the writers follow the same rules in TypeScript (tested against it).

ALTER TABLE request_log ADD COLUMN features JSONB;

ALTER TABLE request_rollup
  ADD COLUMN tokens_in        BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN tokens_out       BIGINT NOT NULL DEFAULT 0,
  -- requests whose answer was a refusal
  ADD COLUMN refusals         INTEGER NOT NULL DEFAULT 0,
  -- requests that asked for JSON and got a text answer; of those, the answers that were valid
  ADD COLUMN validity_checked INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN valid            INTEGER NOT NULL DEFAULT 0;
ALTER TABLE request_rollup_hour
  ADD COLUMN tokens_in        BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN tokens_out       BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN refusals         INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN validity_checked INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN valid            INTEGER NOT NULL DEFAULT 0;

CREATE TABLE request_feature_rollup_hour (
  model       TEXT NOT NULL,
  hour        TIMESTAMPTZ NOT NULL,
  -- the routed version (served rows only); '' for none
  version_id  TEXT NOT NULL,
  -- tokens_in, tokens_out, messages, tool_calls (counts); script, tools_offered, refusal, valid,
  -- finish_reason, label; group and metadata (attribute names), group:<attr>, metadata:<key>
  feature     TEXT NOT NULL,
  -- a count's bin by its lower bound ('16' holds 16-19), or a value cut to 64 characters, or
  -- '__other__' for the values past the feature's cap of distinct bins that hour
  bin         TEXT NOT NULL,
  n           BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (model, hour, version_id, feature, bin)
);
CREATE INDEX request_feature_rollup_hour_hour_idx ON request_feature_rollup_hour (hour);

-- The bin of a count: the greatest of these lower bounds not above it (0, 1, 2, 3, then two
-- per doubling); negative counts are 0. NUMERIC_BIN_BOUNDS in features.ts is the same list.
CREATE FUNCTION modelgov_count_bin(x NUMERIC) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
  SELECT (s.b)[width_bucket(LEAST(GREATEST(floor(x), 0), 1000000000000)::int8, s.b)]::text
    FROM (SELECT '{0,1,2,3,4,6,8,12,16,24,32,48,64,96,128,192,256,384,512,768,1024,1536,2048,3072,4096,6144,8192,12288,16384,24576,32768,49152,65536,98304,131072,196608,262144,393216,524288,786432,1048576,1572864,2097152,3145728,4194304,6291456,8388608,12582912,16777216}'::int8[] AS b) s
$$;

-- The feature bins one served row counts in, before the caps: `cap` is the feature's cap of
-- distinct bins (NULL: none), `pf`/`pb` the attribute a per-attribute value belongs to.
-- A feature the row lacks (NULL, or not of its JSON type) counts nowhere.
CREATE FUNCTION modelgov_feature_values(ti INTEGER, tout INTEGER, f JSONB, g JSONB)
RETURNS TABLE (feature TEXT, bin TEXT, cap INTEGER, pf TEXT, pb TEXT) LANGUAGE sql IMMUTABLE AS $$
  SELECT v.feature, v.bin, v.cap, NULL::text, NULL::text
    FROM (VALUES
      ('tokens_in', modelgov_count_bin(ti), NULL::int),
      ('tokens_out', modelgov_count_bin(tout), NULL),
      ('messages', CASE WHEN jsonb_typeof(f->'messages') = 'number'
                        THEN modelgov_count_bin((f->>'messages')::numeric) END, NULL),
      ('tool_calls', CASE WHEN jsonb_typeof(f->'toolCalls') = 'number'
                          THEN modelgov_count_bin((f->>'toolCalls')::numeric) END, NULL),
      ('script', CASE WHEN jsonb_typeof(f->'script') = 'string' THEN left(f->>'script', 64) END, 64),
      ('tools_offered', CASE WHEN jsonb_typeof(f->'toolsOffered') = 'number'
                             THEN ((f->>'toolsOffered')::numeric > 0)::text END, 64),
      ('refusal', CASE WHEN jsonb_typeof(f->'refusal') = 'boolean' THEN f->>'refusal' END, 64),
      ('valid', CASE WHEN jsonb_typeof(f->'valid') = 'boolean' THEN f->>'valid' END, 64),
      ('finish_reason', CASE WHEN jsonb_typeof(f->'finishReason') = 'string'
                             THEN left(f->>'finishReason', 64) END, 64),
      ('label', CASE WHEN jsonb_typeof(f->'label') = 'string' THEN left(f->>'label', 64) END, 64)
    ) AS v(feature, bin, cap)
   WHERE v.bin IS NOT NULL
  UNION ALL
  SELECT x.feature, x.bin, x.cap, x.pf, x.pb
    FROM (VALUES ('group', g), ('metadata', f->'metadata')) AS a(family, attrs)
   CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(a.attrs) = 'object' THEN a.attrs END) AS e
   CROSS JOIN LATERAL (VALUES
      (a.family, left(e.key, 64), 16, NULL::text, NULL::text),
      (a.family || ':' || left(e.key, 64), left(e.value #>> '{}', 64), 64, a.family, left(e.key, 64))
    ) AS x(feature, bin, cap, pf, pb)
   WHERE jsonb_typeof(e.value) = 'string'
$$;

-- The rows already logged: not summed here. Their new sums (tokens in the two roll-ups, tokens
-- and groups in the feature roll-up) are added by a leased background job, one hour per
-- transaction, newest hour first (src/modules/request-log/feature-backfill.ts). Summing them
-- here took over 20 minutes at 10M rows, with startup blocked and the roll-ups locked meanwhile.
--
-- Which rows are the job's: those with `features IS NULL`. The column is new, so every row
-- logged before this migration has NULL; from this migration on, the request-log writer stores
-- `{}` for a row without features (a failed derivation, a spool line written by the previous
-- release), never NULL, and adds every row it inserts to the sums in the batch's transaction.
-- So a NULL row has never had its tokens or feature bins counted, and a non-NULL row always
-- has. `{}` and NULL read the same everywhere (no feature), so nothing else changes. A row
-- that a replica of the previous release inserts during a rolling upgrade also has NULL and is
-- counted by the job if its hour is not done yet (otherwise its tokens stay uncounted: a
-- rolling upgrade's minutes at most). Refusals and validity come from `features` only, so the
-- old rows add nothing to them.
--
-- What is recorded: the range of hours to do, [lo, hi), and the job's cursor: hours in
-- [next_hour, hi) are done, [lo, next_hour) still to do. `lo` is the first day still kept raw
-- (days dropped by retention need nothing); `hi` the end of the last hour with roll-up rows,
-- or of the current hour. The job moves the cursor in the transaction that adds an hour's
-- sums, so an hour is added once, whatever crashes or replicas race; it skips hours whose day
-- partition was dropped meanwhile. Monitors read the cursor: a drift window (or its baseline)
-- that overlaps the hours still to do waits for the job instead of being judged.
CREATE TABLE request_feature_backfill (
  id          BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
  lo          TIMESTAMPTZ NOT NULL,
  hi          TIMESTAMPTZ NOT NULL,
  next_hour   TIMESTAMPTZ NOT NULL,
  hours_done  INTEGER NOT NULL DEFAULT 0,
  rows_done   BIGINT NOT NULL DEFAULT 0,
  recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  finished_at TIMESTAMPTZ
);
INSERT INTO request_feature_backfill (lo, hi, next_hour, finished_at)
SELECT LEAST(COALESCE(b.lo, b.hi), b.hi), b.hi, b.hi, CASE WHEN b.lo IS NULL OR b.lo >= b.hi THEN now() END
  FROM (SELECT (SELECT min(to_date(right(p, 8), 'YYYYMMDD'))::timestamp AT TIME ZONE 'UTC'
                  FROM modelgov_day_partitions('request_log') AS p) AS lo,
               GREATEST(date_trunc('hour', now(), 'UTC') + interval '1 hour',
                        (SELECT max(hour) + interval '1 hour' FROM request_rollup_hour)) AS hi) b;
