-- A/B experiments (src/modules/experiments/). The arms are versions of one model, split by
-- the gateway's sticky weighted split in model_routes for as long as the experiment runs.
-- At most one running experiment per model; the service also refuses one while a rollout
-- is active on the model. Each look's results are kept (last_results) so the always-valid
-- test carries its running p-value from one look to the next.
CREATE TABLE experiments (
  id                      TEXT PRIMARY KEY,
  model_id                TEXT NOT NULL REFERENCES models(id),
  name                    TEXT NOT NULL,
  -- [{ "name": "control", "version": "1.0.0", "versionId": "ver_…", "weight": 50 }, ...]; the first is the control
  arms                    JSONB NOT NULL,
  primary_metric          TEXT NOT NULL CHECK (primary_metric IN ('success_rate', 'score_mean')),
  -- ["error_rate", ...]
  secondary_metrics       JSONB NOT NULL DEFAULT '[]',
  -- the engine's Guardrail objects: [{ "metric": "error_rate", "max": 0.02 }, ...]
  guardrails              JSONB NOT NULL DEFAULT '[]',
  min_sample_per_arm      INTEGER NOT NULL,
  min_duration_ms         DOUBLE PRECISION NOT NULL DEFAULT 0,
  planned_sample_per_arm  INTEGER NOT NULL,
  -- the expected per-unit variance of the primary metric, fixed before the start
  baseline_rate           DOUBLE PRECISION,
  score_variance          DOUBLE PRECISION,
  alpha                   DOUBLE PRECISION NOT NULL,
  status                  TEXT NOT NULL CHECK (status IN ('running', 'stopped', 'completed')),
  stop_reason             TEXT,
  started_at              TIMESTAMPTZ NOT NULL,
  ended_at                TIMESTAMPTZ,
  started_by              TEXT NOT NULL,
  -- { "at": …, "elapsedMs": …, "results": <the engine's ExperimentResults> } of the last look
  last_results            JSONB,
  UNIQUE (model_id, name)
);
CREATE UNIQUE INDEX experiments_one_running_per_model ON experiments (model_id) WHERE status = 'running';
CREATE INDEX experiments_model_started_idx ON experiments (model_id, started_at DESC);
