-- Webhooks: subscriptions per event type, and one delivery row per (subscription, event).
-- Deliveries are fanned out from event_outbox in the transaction that marks the outbox row
-- dispatched, so an event is neither lost nor fanned out twice; workers claim due
-- deliveries with FOR UPDATE SKIP LOCKED, which needs no singleton across replicas.

CREATE TABLE webhook_subscriptions (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  url          TEXT NOT NULL,
  -- action names (version.status_changed), prefix patterns (approval.*) or '*'
  event_types  TEXT[] NOT NULL,
  -- Kept in the clear, unlike API tokens: signing with HMAC needs the raw secret.
  secret       TEXT NOT NULL,
  active       BOOLEAN NOT NULL DEFAULT true,
  created_by   TEXT NOT NULL,
  created_at   TIMESTAMPTZ NOT NULL,
  disabled_at  TIMESTAMPTZ,
  disabled_by  TEXT
);

CREATE TABLE webhook_deliveries (
  id                TEXT PRIMARY KEY,
  subscription_id   TEXT NOT NULL REFERENCES webhook_subscriptions(id),
  outbox_seq        BIGINT NOT NULL,
  audit_id          TEXT NOT NULL REFERENCES audit_events(id),
  event_type        TEXT NOT NULL,
  payload           JSONB NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  -- While an attempt is in flight this is the claim's expiry: a worker that dies
  -- mid-attempt leaves the delivery due again once it passes.
  next_attempt_at   TIMESTAMPTZ NOT NULL,
  last_attempt_at   TIMESTAMPTZ,
  last_status_code  INTEGER,
  last_error        TEXT,
  delivered_at      TIMESTAMPTZ,
  created_at        TIMESTAMPTZ NOT NULL,
  UNIQUE (subscription_id, audit_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_subscription_idx ON webhook_deliveries (subscription_id, outbox_seq DESC);
