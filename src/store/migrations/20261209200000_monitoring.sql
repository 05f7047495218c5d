-- Monitoring (issue 17): per-model monitors (model '*' is the workspace default), each rule's
-- state per watched version, and every judged window (the history behind each decision).

CREATE TABLE monitors (
  model       TEXT PRIMARY KEY,
  config      JSONB NOT NULL,
  updated_at  TIMESTAMPTZ NOT NULL,
  updated_by  TEXT NOT NULL
);

CREATE TABLE monitor_rule_states (
  model            TEXT NOT NULL,
  version_id       TEXT NOT NULL,
  rule             TEXT NOT NULL,
  streak           INTEGER NOT NULL DEFAULT 0,
  firing           BOOLEAN NOT NULL DEFAULT false,
  last_window_end  TIMESTAMPTZ,
  fired_at         TIMESTAMPTZ,
  updated_at       TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (model, version_id, rule)
);

CREATE TABLE monitor_windows (
  model         TEXT NOT NULL,
  version_id    TEXT NOT NULL,
  rule          TEXT NOT NULL,
  window_start  TIMESTAMPTZ NOT NULL,
  window_end    TIMESTAMPTZ NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('breach', 'ok', 'insufficient')),
  value         DOUBLE PRECISION,
  baseline      DOUBLE PRECISION,
  threshold     DOUBLE PRECISION,
  n             BIGINT NOT NULL,
  p             DOUBLE PRECISION,
  reason        TEXT NOT NULL,
  computed_at   TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (model, version_id, rule, window_start)
);
CREATE INDEX monitor_windows_model_end_idx ON monitor_windows (model, window_end);
