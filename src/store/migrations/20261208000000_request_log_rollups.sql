-- The request log at scale (issue 16): raw rows partitioned by day, and compact per-minute
-- roll-ups that every repeated analysis reads instead of the raw rows.
--
-- * request_log and feedback become range-partitioned by `at`, one partition per UTC day.
--   Partitions are made on demand (the writers call modelgov_ensure_day_partition for a day
--   they have not seen) and ahead of time by the retention job, which also drops the days past
--   the raw retention (modelgov_drop_day_partitions_before). Dropping a partition removes rows
--   without a DELETE, so the append-only triggers still refuse any row-by-row change. The
--   primary keys follow the partition key: (id, at); a replayed row has the same id and at.
-- * request_rollup: per model, minute, routed version and kind (served or mirrored), the sums
--   a test needs (counts, errors, cost and its squares, a latency histogram, feedback counts,
--   successes, score sums and squares, shadow agreement). request_group_rollup: judged
--   requests per set of groups (fairness, bias drift). client_rollup: per client and served
--   version (dependents). All three are kept up to date by the writers, in the transaction
--   that inserts each batch, late feedback included (src/modules/request-log/rollup.ts).
--   request_rollup_hour and request_group_rollup_hour hold the same sums per hour, so a week's
--   window reads 168 rows per version, not 10,080: a window is read as raw rows at its ragged
--   ends, minutes up to the first and from the last whole hour, and hours in between.
-- * split_units / split_unit_counts: distinct assignment units per experiment arm, exact,
--   counted once per (scope, version, subject) as rows land; `split_scope` is the route's
--   split identity (an experiment's id), so a look reads one counter row per arm.
-- These functions run as the owner of the tables (the server's role owns nothing).

CREATE FUNCTION modelgov_add_counts(a INT[], b INT[]) RETURNS INT[] LANGUAGE sql IMMUTABLE AS $$
  SELECT COALESCE(array_agg(COALESCE(x, 0) + COALESCE(y, 0) ORDER BY i), '{}'::int[])
    FROM unnest(COALESCE(a, '{}'::int[]), COALESCE(b, '{}'::int[])) WITH ORDINALITY AS u(x, y, i)
$$;

CREATE AGGREGATE modelgov_sum_counts(INT[]) (SFUNC = modelgov_add_counts, STYPE = INT[], INITCOND = '{}');

CREATE FUNCTION modelgov_ensure_day_partition(parent TEXT, day DATE) RETURNS BOOLEAN
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  part TEXT := parent || '_p' || to_char(day, 'YYYYMMDD');
BEGIN
  IF parent NOT IN ('request_log', 'feedback') THEN
    RAISE EXCEPTION 'not a partitioned log table: %', parent USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF to_regclass(part) IS NOT NULL THEN
    RETURN false;
  END IF;
  BEGIN
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', part, parent,
                   (day::timestamp AT TIME ZONE 'UTC'), ((day + 1)::timestamp AT TIME ZONE 'UTC'));
    -- A day's rows go only with its whole partition (retention), never by TRUNCATE.
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate()',
                   part || '_no_truncate', part);
  EXCEPTION WHEN duplicate_table THEN
    RETURN false; -- another writer made it first
  END;
  RETURN true;
END;
$$;

-- Drops the day partitions of `parent` that end on or before `cutoff`; returns their names.
CREATE FUNCTION modelgov_drop_day_partitions_before(parent TEXT, cutoff DATE) RETURNS SETOF TEXT
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  part TEXT;
BEGIN
  IF parent NOT IN ('request_log', 'feedback') THEN
    RAISE EXCEPTION 'not a partitioned log table: %', parent USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOR part IN
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = parent::regclass AND c.relname ~ ('^' || parent || '_p[0-9]{8}$')
       AND to_date(right(c.relname, 8), 'YYYYMMDD') + 1 <= cutoff
     ORDER BY c.relname
  LOOP
    EXECUTE format('DROP TABLE %I', part);
    RETURN NEXT part;
  END LOOP;
END;
$$;

-- The day partitions `parent` has, oldest first (for the retention job's report and tests).
CREATE FUNCTION modelgov_day_partitions(parent TEXT) RETURNS SETOF TEXT
LANGUAGE sql STABLE AS $$
  SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent = parent::regclass ORDER BY c.relname
$$;

-- request_log, partitioned ------------------------------------------------------------------
ALTER TABLE request_log RENAME TO request_log_unpartitioned;
DROP TRIGGER request_log_append_only ON request_log_unpartitioned;
ALTER INDEX request_log_pkey RENAME TO request_log_unpartitioned_pkey;
DROP INDEX request_log_model_at_idx;
DROP INDEX request_log_shadow_idx;

CREATE TABLE request_log (
  id                TEXT NOT NULL,
  at                TIMESTAMPTZ NOT NULL,
  token_id          TEXT,
  client            TEXT,
  model             TEXT NOT NULL,
  version_id        TEXT,
  version           TEXT,
  -- the version the route chose (the first step of the fallback path): what rollout and
  -- experiment windows count a request against, even when a fallback served it
  routed_version_id TEXT,
  route_reason      TEXT NOT NULL,
  -- the route's split identity when a split chose the version (an experiment's id)
  split_scope       TEXT,
  endpoint          TEXT NOT NULL CHECK (endpoint IN ('chat.completions', 'messages')),
  stream            BOOLEAN NOT NULL,
  status            INTEGER NOT NULL,
  error_class       TEXT,
  total_ms          REAL NOT NULL,
  upstream_ms       REAL,
  tokens_in         INTEGER NOT NULL DEFAULT 0,
  tokens_out        INTEGER NOT NULL DEFAULT 0,
  cost_usd          DOUBLE PRECISION NOT NULL DEFAULT 0,
  fallback_path     JSONB NOT NULL DEFAULT '[]',
  subject_hash      TEXT,
  groups            JSONB,
  prompt_hash       TEXT,
  response_hash     TEXT,
  sampled_body      JSONB,
  shadow_of         TEXT,
  agreement         BOOLEAN,
  PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE INDEX request_log_model_at_idx ON request_log (model, at);
CREATE INDEX request_log_shadow_idx ON request_log (model, at) WHERE shadow_of IS NOT NULL;
CREATE TRIGGER request_log_append_only BEFORE UPDATE OR DELETE ON request_log
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_update();
CREATE TRIGGER request_log_no_truncate BEFORE TRUNCATE ON request_log
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();

-- feedback, partitioned ---------------------------------------------------------------------
ALTER TABLE feedback RENAME TO feedback_unpartitioned;
DROP TRIGGER feedback_append_only ON feedback_unpartitioned;
ALTER INDEX feedback_pkey RENAME TO feedback_unpartitioned_pkey;
DROP INDEX feedback_request_idx;
DROP INDEX feedback_at_idx;

CREATE TABLE feedback (
  id          TEXT NOT NULL,
  request_id  TEXT NOT NULL,
  at          TIMESTAMPTZ NOT NULL,
  success     BOOLEAN,
  score       DOUBLE PRECISION,
  labels      TEXT[] NOT NULL DEFAULT '{}',
  groups      JSONB NOT NULL DEFAULT '{}',
  comment     TEXT NOT NULL DEFAULT '',
  token_id    TEXT NOT NULL,
  client      TEXT NOT NULL,
  CHECK (success IS NOT NULL OR score IS NOT NULL),
  PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE INDEX feedback_request_idx ON feedback (request_id, at);
CREATE TRIGGER feedback_append_only BEFORE UPDATE OR DELETE ON feedback
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_update();
CREATE TRIGGER feedback_no_truncate BEFORE TRUNCATE ON feedback
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();

-- Partitions for the days already logged, then the rows moved over.
DO $$
DECLARE d DATE;
BEGIN
  FOR d IN SELECT DISTINCT (at AT TIME ZONE 'UTC')::date FROM request_log_unpartitioned
           UNION SELECT DISTINCT (at AT TIME ZONE 'UTC')::date FROM feedback_unpartitioned LOOP
    PERFORM modelgov_ensure_day_partition('request_log', d);
    PERFORM modelgov_ensure_day_partition('feedback', d);
  END LOOP;
END $$;

INSERT INTO request_log (id, at, token_id, client, model, version_id, version, routed_version_id,
                         route_reason, endpoint, stream, status, error_class, total_ms, upstream_ms,
                         tokens_in, tokens_out, cost_usd, fallback_path, subject_hash, groups,
                         prompt_hash, response_hash, sampled_body, shadow_of, agreement)
SELECT id, at, token_id, client, model, version_id, version,
       COALESCE(fallback_path->0->>'versionId', version_id), route_reason, endpoint, stream, status,
       error_class, total_ms, upstream_ms, tokens_in, tokens_out, cost_usd, fallback_path,
       subject_hash, groups, prompt_hash, response_hash, sampled_body, shadow_of, agreement
  FROM request_log_unpartitioned;
INSERT INTO feedback SELECT id, request_id, at, success, score, labels, groups, comment, token_id, client
  FROM feedback_unpartitioned;
DROP TABLE request_log_unpartitioned;
DROP TABLE feedback_unpartitioned;

-- Roll-ups ------------------------------------------------------------------------------------
CREATE TABLE request_rollup (
  model       TEXT NOT NULL,
  minute      TIMESTAMPTZ NOT NULL,
  -- served rows: the routed version; mirrored (shadow) rows: the version that answered; '' for none
  version_id  TEXT NOT NULL,
  shadow      BOOLEAN NOT NULL,
  requests    INTEGER NOT NULL DEFAULT 0,
  -- served: a 5xx or a first attempt not served; mirrored: a 5xx
  errors      INTEGER NOT NULL DEFAULT 0,
  cost_usd    DOUBLE PRECISION NOT NULL DEFAULT 0,
  cost_sq     DOUBLE PRECISION NOT NULL DEFAULT 0,
  -- latency[b + 1] counts requests in latency bucket b (src/engines/rollout/latency.ts)
  latency     INTEGER[] NOT NULL DEFAULT '{}',
  -- the latest feedback per request (served rows only)
  feedback    INTEGER NOT NULL DEFAULT 0,
  successes   INTEGER NOT NULL DEFAULT 0,
  scores      INTEGER NOT NULL DEFAULT 0,
  score_sum   DOUBLE PRECISION NOT NULL DEFAULT 0,
  score_sq    DOUBLE PRECISION NOT NULL DEFAULT 0,
  compared    INTEGER NOT NULL DEFAULT 0,
  agreed      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (model, minute, version_id, shadow)
);
CREATE INDEX request_rollup_minute_idx ON request_rollup (minute);

CREATE TABLE request_group_rollup (
  model       TEXT NOT NULL,
  minute      TIMESTAMPTZ NOT NULL,
  version_id  TEXT NOT NULL,
  -- a judged request's groups: those its feedback names, else those it was logged with
  groups      JSONB NOT NULL,
  n           INTEGER NOT NULL DEFAULT 0,
  successes   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (model, minute, version_id, groups)
);
CREATE INDEX request_group_rollup_minute_idx ON request_group_rollup (minute);

CREATE TABLE request_rollup_hour (LIKE request_rollup INCLUDING DEFAULTS);
ALTER TABLE request_rollup_hour RENAME COLUMN minute TO hour;
ALTER TABLE request_rollup_hour ADD PRIMARY KEY (model, hour, version_id, shadow);
CREATE INDEX request_rollup_hour_hour_idx ON request_rollup_hour (hour);
CREATE TABLE request_group_rollup_hour (LIKE request_group_rollup INCLUDING DEFAULTS);
ALTER TABLE request_group_rollup_hour RENAME COLUMN minute TO hour;
ALTER TABLE request_group_rollup_hour ADD PRIMARY KEY (model, hour, version_id, groups);
CREATE INDEX request_group_rollup_hour_hour_idx ON request_group_rollup_hour (hour);

CREATE TABLE client_rollup (
  model       TEXT NOT NULL,
  minute      TIMESTAMPTZ NOT NULL,
  client      TEXT NOT NULL,   -- '' when no token was recognised
  version_id  TEXT NOT NULL,   -- the version that answered; '' when none
  version     TEXT NOT NULL,
  requests    INTEGER NOT NULL DEFAULT 0,
  errors      INTEGER NOT NULL DEFAULT 0,   -- 4xx and 5xx
  last_seen   TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (model, minute, client, version_id, version)
);
CREATE INDEX client_rollup_minute_idx ON client_rollup (minute);

CREATE TABLE split_units (
  scope       TEXT NOT NULL,
  version_id  TEXT NOT NULL,
  subject     TEXT NOT NULL,
  first_at    TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (scope, version_id, subject)
);
CREATE TABLE split_unit_counts (
  scope       TEXT NOT NULL,
  version_id  TEXT NOT NULL,
  units       BIGINT NOT NULL DEFAULT 0,
  last_at     TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (scope, version_id)
);

ALTER TABLE model_routes ADD COLUMN split_scope TEXT;

-- The roll-ups of the rows already logged, by the same rules the writers follow.
WITH f AS (
  SELECT DISTINCT ON (request_id) request_id, success, score, groups
    FROM feedback ORDER BY request_id, at DESC, id DESC
), r AS (
  SELECT r.id, r.model, date_trunc('minute', r.at) AS minute, r.shadow_of IS NOT NULL AS shadow,
         CASE WHEN r.shadow_of IS NULL THEN COALESCE(r.routed_version_id, '')
              ELSE COALESCE(r.version_id, '') END AS vid,
         r.status, r.fallback_path->0->>'outcome' AS first_outcome, r.cost_usd, r.agreement
    FROM request_log r
)
INSERT INTO request_rollup (model, minute, version_id, shadow, requests, errors, cost_usd, cost_sq,
                            feedback, successes, scores, score_sum, score_sq, compared, agreed)
SELECT r.model, r.minute, r.vid, r.shadow, count(*),
       count(*) FILTER (WHERE r.status >= 500 OR (NOT r.shadow AND r.first_outcome IS NOT NULL
                                                   AND r.first_outcome <> 'served')),
       COALESCE(sum(r.cost_usd), 0), COALESCE(sum(r.cost_usd * r.cost_usd), 0),
       count(f.success) FILTER (WHERE NOT r.shadow),
       count(*) FILTER (WHERE f.success AND NOT r.shadow),
       count(f.score) FILTER (WHERE NOT r.shadow),
       COALESCE(sum(f.score) FILTER (WHERE NOT r.shadow), 0),
       COALESCE(sum(f.score * f.score) FILTER (WHERE NOT r.shadow), 0),
       count(r.agreement) FILTER (WHERE r.shadow), count(*) FILTER (WHERE r.agreement AND r.shadow)
  FROM r LEFT JOIN f ON f.request_id = r.id
 GROUP BY 1, 2, 3, 4;

WITH b AS (
  SELECT model, date_trunc('minute', at) AS minute, shadow_of IS NOT NULL AS shadow,
         CASE WHEN shadow_of IS NULL THEN COALESCE(routed_version_id, '')
              ELSE COALESCE(version_id, '') END AS vid,
         LEAST(400, GREATEST(0, floor(16 * ln(GREATEST(total_ms, 1)::float8) / ln(2.0) + 1e-9)))::int AS b,
         count(*)::int AS n
    FROM request_log GROUP BY 1, 2, 3, 4, 5
), dense AS (
  SELECT m.model, m.minute, m.shadow, m.vid, array_agg(COALESCE(b.n, 0) ORDER BY s.i) AS arr
    FROM (SELECT model, minute, shadow, vid, max(b) AS mb FROM b GROUP BY 1, 2, 3, 4) m
   CROSS JOIN LATERAL generate_series(0, m.mb) AS s(i)
    LEFT JOIN b ON b.model = m.model AND b.minute = m.minute AND b.shadow = m.shadow AND b.vid = m.vid
               AND b.b = s.i
   GROUP BY 1, 2, 3, 4
)
UPDATE request_rollup t SET latency = d.arr
  FROM dense d
 WHERE t.model = d.model AND t.minute = d.minute AND t.shadow = d.shadow AND t.version_id = d.vid;

WITH f AS (
  SELECT DISTINCT ON (request_id) request_id, success, groups
    FROM feedback ORDER BY request_id, at DESC, id DESC
)
INSERT INTO request_group_rollup (model, minute, version_id, groups, n, successes)
SELECT r.model, date_trunc('minute', r.at), COALESCE(r.routed_version_id, ''),
       CASE WHEN f.groups = '{}'::jsonb THEN COALESCE(r.groups, '{}'::jsonb) ELSE f.groups END,
       count(*), count(*) FILTER (WHERE f.success)
  FROM request_log r JOIN f ON f.request_id = r.id
 WHERE r.shadow_of IS NULL AND f.success IS NOT NULL
 GROUP BY 1, 2, 3, 4;

INSERT INTO request_rollup_hour
SELECT model, date_trunc('hour', minute, 'UTC'), version_id, shadow, sum(requests), sum(errors), sum(cost_usd),
       sum(cost_sq), modelgov_sum_counts(latency ORDER BY minute), sum(feedback), sum(successes), sum(scores),
       sum(score_sum), sum(score_sq), sum(compared), sum(agreed)
  FROM request_rollup GROUP BY 1, 2, 3, 4;
INSERT INTO request_group_rollup_hour
SELECT model, date_trunc('hour', minute, 'UTC'), version_id, groups, sum(n), sum(successes)
  FROM request_group_rollup GROUP BY 1, 2, 3, 4;

INSERT INTO client_rollup (model, minute, client, version_id, version, requests, errors, last_seen)
SELECT model, date_trunc('minute', at), COALESCE(client, ''), COALESCE(version_id, ''),
       COALESCE(version, ''), count(*), count(*) FILTER (WHERE status >= 400), max(at)
  FROM request_log WHERE shadow_of IS NULL
 GROUP BY 1, 2, 3, 4, 5;

-- Running experiments: their split is scoped to them, and their units so far counted.
UPDATE model_routes mr SET split_scope = e.id
  FROM experiments e WHERE e.model_id = mr.model_id AND e.status = 'running';
INSERT INTO split_units (scope, version_id, subject, first_at)
SELECT e.id, COALESCE(r.routed_version_id, ''), r.subject_hash, min(r.at)
  FROM experiments e JOIN models m ON m.id = e.model_id
  JOIN request_log r ON r.model = m.name AND r.at >= e.started_at
 WHERE e.status = 'running' AND r.shadow_of IS NULL AND r.subject_hash IS NOT NULL
 GROUP BY 1, 2, 3;
INSERT INTO split_unit_counts (scope, version_id, units, last_at)
SELECT e.id, COALESCE(r.routed_version_id, ''),
       count(DISTINCT r.subject_hash) + count(*) FILTER (WHERE r.subject_hash IS NULL), max(r.at)
  FROM experiments e JOIN models m ON m.id = e.model_id
  JOIN request_log r ON r.model = m.name AND r.at >= e.started_at
 WHERE e.status = 'running' AND r.shadow_of IS NULL
 GROUP BY 1, 2;
