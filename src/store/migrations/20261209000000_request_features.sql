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

-- The new sums of the rows already logged (rows that are no longer raw keep 0), by the same
-- rules the writers follow.
WITH s AS (
  SELECT model, date_trunc('minute', at) AS minute, shadow_of IS NOT NULL AS shadow,
         CASE WHEN shadow_of IS NULL THEN COALESCE(routed_version_id, '')
              ELSE COALESCE(version_id, '') END AS vid,
         sum(tokens_in) AS tokens_in, sum(tokens_out) AS tokens_out,
         count(*) FILTER (WHERE features->'refusal' = 'true'::jsonb) AS refusals,
         count(*) FILTER (WHERE jsonb_typeof(features->'valid') = 'boolean') AS checked,
         count(*) FILTER (WHERE features->'valid' = 'true'::jsonb) AS valid
    FROM request_log GROUP BY 1, 2, 3, 4
)
UPDATE request_rollup t
   SET tokens_in = s.tokens_in, tokens_out = s.tokens_out, refusals = s.refusals,
       validity_checked = s.checked, valid = s.valid
  FROM s
 WHERE t.model = s.model AND t.minute = s.minute AND t.shadow = s.shadow AND t.version_id = s.vid;

WITH s AS (
  SELECT model, date_trunc('hour', minute, 'UTC') AS hour, version_id, shadow,
         sum(tokens_in) AS tokens_in, sum(tokens_out) AS tokens_out, sum(refusals) AS refusals,
         sum(validity_checked) AS checked, sum(valid) AS valid
    FROM request_rollup GROUP BY 1, 2, 3, 4
)
UPDATE request_rollup_hour t
   SET tokens_in = s.tokens_in, tokens_out = s.tokens_out, refusals = s.refusals,
       validity_checked = s.checked, valid = s.valid
  FROM s
 WHERE t.model = s.model AND t.hour = s.hour AND t.shadow = s.shadow AND t.version_id = s.version_id;

-- The feature roll-up of the served rows already logged: each capped feature keeps its most
-- frequent values of the hour (then by value), the rest count in __other__; a per-attribute
-- value counts only when its attribute was kept.
WITH v AS (
  SELECT r.model, date_trunc('hour', r.at, 'UTC') AS hour, COALESCE(r.routed_version_id, '') AS vid,
         x.feature, x.bin, x.cap, x.pf, x.pb, count(*) AS n
    FROM request_log r
   CROSS JOIN LATERAL modelgov_feature_values(r.tokens_in, r.tokens_out, r.features, r.groups) AS x
   WHERE r.shadow_of IS NULL
   GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
), ranked AS (
  SELECT v.*, v.cap IS NULL OR v.bin = '__other__'
           OR row_number() OVER (PARTITION BY v.model, v.hour, v.vid, v.feature, v.bin = '__other__'
                                 ORDER BY v.n DESC, v.bin) <= v.cap AS admitted
    FROM v
), par AS (
  -- a per-attribute value's parent: the attribute's own row, in the same (family, attribute) window
  SELECT r.*, bool_or(r.admitted) FILTER (WHERE r.pf IS NULL)
                OVER (PARTITION BY r.model, r.hour, r.vid, COALESCE(r.pf, r.feature), COALESCE(r.pb, r.bin))
                AS parent_admitted
    FROM ranked r
)
INSERT INTO request_feature_rollup_hour (model, hour, version_id, feature, bin, n)
SELECT model, hour, vid, feature, CASE WHEN admitted THEN bin ELSE '__other__' END, sum(n)
  FROM par
 WHERE pf IS NULL OR parent_admitted
 GROUP BY 1, 2, 3, 4, 5;
-- End of the feature backfill.
