-- Named rollout plans from modelgov.yaml (`rollouts.plans`), beside the built-in default and
-- demo plans. Applied by the spec; a plan left out of the spec is kept (nothing is deleted).
CREATE TABLE rollout_plans (
  name        TEXT PRIMARY KEY,
  plan        JSONB NOT NULL,
  updated_at  TIMESTAMPTZ NOT NULL
);
