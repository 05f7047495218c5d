-- Containerised models (src/modules/traffic/): a model whose versions are served by
-- self-hosted containers names the cluster route that splits traffic between them, and which
-- backend of that route each version is. The weights written there are never stored as
-- desired state of their own: they follow from the model's route config (the split) and its
-- production alias, so the cluster converges on what the gateway does. The reconciler writes
-- the cluster outside any database transaction, then records what it wrote (or why it could
-- not) in the sync columns below.
CREATE TABLE traffic_targets (
  model_id          TEXT PRIMARY KEY REFERENCES models(id),
  -- kind, namespace, name, ruleIndex, backends (version -> backend name), total
  target            JSONB NOT NULL,
  updated_at        TIMESTAMPTZ NOT NULL,
  updated_by        TEXT NOT NULL,
  -- backend -> weight last written to (or found on) the route, and its resourceVersion then
  applied           JSONB,
  applied_at        TIMESTAMPTZ,
  resource_version  TEXT,
  last_error        TEXT,
  last_error_at     TIMESTAMPTZ,
  -- consecutive failed applies; the next try of the same weights waits for next_attempt_at
  -- (new weights, e.g. a rollback, are tried at once)
  failures          INTEGER NOT NULL DEFAULT 0,
  next_attempt_at   TIMESTAMPTZ,
  attempted         JSONB
);
