-- Bias drift on live traffic (src/modules/bias-drift/). A scheduled job recomputes success
-- by group from the gateway's feedback, per version, attribute and time window, and keeps
-- the series. A point is written once: the unique key makes re-running a window a no-op,
-- so the job, a replica taking over, and an on-demand backfill can all run the same window
-- without a second point or a second alert.
CREATE TABLE bias_drift_points (
  id                 TEXT PRIMARY KEY,
  model_id           TEXT NOT NULL REFERENCES models(id),
  version_id         TEXT NOT NULL REFERENCES model_versions(id),
  window_start       TIMESTAMPTZ NOT NULL,
  window_end         TIMESTAMPTZ NOT NULL,
  -- one attribute ("language") or an intersection ("gender × age_band")
  attribute          TEXT NOT NULL,
  -- rows with feedback, and those without a value for the attribute (in no group)
  n                  INTEGER NOT NULL,
  unassigned         INTEGER NOT NULL,
  -- [{ "key", "values", "n", "successes", "successRate", "status": "ok" | "insufficient" }]
  -- every group, the insufficient ones included with a null rate
  groups             JSONB NOT NULL,
  -- max − min success rate of the sufficient groups, in points; NULL with fewer than two
  gap_points         DOUBLE PRECISION,
  ratio              DOUBLE PRECISION,
  -- the policy in force when the point was computed; NULL when no release gate applies
  threshold_points   DOUBLE PRECISION,
  min_ratio          DOUBLE PRECISION,
  min_group_size     INTEGER NOT NULL,
  breached           BOOLEAN NOT NULL,
  -- whether this point raised the fairness.drift_alert audit event (and so the webhook)
  alerted            BOOLEAN NOT NULL,
  -- the gap of the previous judged point of the same version and attribute
  previous_gap_points DOUBLE PRECISION,
  -- the verdict in words (each check with its numbers, groups left out for size)
  reasons            JSONB NOT NULL DEFAULT '[]',
  computed_at        TIMESTAMPTZ NOT NULL,
  CHECK (window_end > window_start),
  UNIQUE (version_id, attribute, window_start)
);
CREATE INDEX bias_drift_points_model_idx ON bias_drift_points (model_id, window_start);
CREATE TRIGGER bias_drift_points_append_only BEFORE UPDATE OR DELETE ON bias_drift_points
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_update();

-- The windows the job has been through for every model with traffic, so a tick asks one
-- cheap question instead of re-reading hours of request log. A window without traffic
-- leaves no point, which is why the points alone cannot say what was done.
CREATE TABLE bias_drift_windows (
  window_start  TIMESTAMPTZ NOT NULL,
  window_end    TIMESTAMPTZ NOT NULL,
  models        INTEGER NOT NULL,
  computed_at   TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (window_start, window_end)
);
CREATE TRIGGER bias_drift_windows_append_only BEFORE UPDATE OR DELETE ON bias_drift_windows
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_update();
