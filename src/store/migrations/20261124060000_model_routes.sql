-- How the gateway routes each model: an optional weighted split between versions (driven
-- by rollouts and experiments later), a fallback chain, whether callers may pin a
-- version, and per-model upstream timeouts and breaker settings. No row = defaults.
CREATE TABLE model_routes (
  model_id       TEXT PRIMARY KEY REFERENCES models(id),
  split          JSONB,
  fallback       JSONB NOT NULL DEFAULT '[]',
  allow_pinning  BOOLEAN NOT NULL DEFAULT false,
  timeouts       JSONB,
  breaker        JSONB,
  prices         JSONB,
  updated_at     TIMESTAMPTZ NOT NULL
);
