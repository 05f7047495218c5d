-- Canary rollouts (src/modules/rollouts/). A rollout moves a candidate version's share of a
-- model's traffic step by step (the gateway's split in model_routes), judged against the
-- baseline (the production version when it started) at every analysis interval. At most one
-- active rollout per model. Every decision is a row here and an audit event.
CREATE TABLE rollouts (
  id                    TEXT PRIMARY KEY,
  model_id              TEXT NOT NULL REFERENCES models(id),
  candidate_version_id  TEXT NOT NULL REFERENCES model_versions(id),
  baseline_version_id   TEXT NOT NULL REFERENCES model_versions(id),
  plan_name             TEXT NOT NULL,
  plan                  JSONB NOT NULL,
  status                TEXT NOT NULL
                        CHECK (status IN ('running', 'paused', 'promoted', 'rolled_back', 'aborted')),
  step_index            INTEGER NOT NULL DEFAULT 0,
  step_started_at       TIMESTAMPTZ NOT NULL,
  -- the candidate's share of traffic, in percent
  weight                DOUBLE PRECISION NOT NULL,
  consecutive_failures  INTEGER NOT NULL DEFAULT 0,
  -- why it is paused (a manual gate, or an operator), when it is
  paused_reason         TEXT,
  next_analysis_at      TIMESTAMPTZ NOT NULL,
  last_decision         JSONB,
  started_at            TIMESTAMPTZ NOT NULL,
  ended_at              TIMESTAMPTZ,
  started_by            TEXT NOT NULL,
  CHECK (candidate_version_id <> baseline_version_id)
);
CREATE UNIQUE INDEX rollouts_one_active_per_model ON rollouts (model_id)
  WHERE status IN ('running', 'paused');
CREATE INDEX rollouts_model_started_idx ON rollouts (model_id, started_at DESC);

-- Every analysis and every operator action on a rollout, with the numbers behind it.
CREATE TABLE rollout_decisions (
  id            BIGSERIAL PRIMARY KEY,
  rollout_id    TEXT NOT NULL REFERENCES rollouts(id),
  at            TIMESTAMPTZ NOT NULL,
  -- advance | hold | promote | rollback | pause | resume | abort
  decision      TEXT NOT NULL,
  step_index    INTEGER NOT NULL,
  weight_before DOUBLE PRECISION NOT NULL,
  weight_after  DOUBLE PRECISION NOT NULL,
  reasons       JSONB NOT NULL,
  analysis      JSONB,
  actor         TEXT NOT NULL
);
CREATE INDEX rollout_decisions_rollout_idx ON rollout_decisions (rollout_id, id);
CREATE TRIGGER rollout_decisions_append_only BEFORE UPDATE OR DELETE ON rollout_decisions
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_update();

-- Singleton jobs across replicas (the rollout controller): a lease with an expiry and an
-- epoch that goes up whenever another replica takes over (fencing).
CREATE TABLE controller_leases (
  name        TEXT PRIMARY KEY,
  holder      TEXT NOT NULL,
  epoch       BIGINT NOT NULL,
  expires_at  TIMESTAMPTZ NOT NULL
);
