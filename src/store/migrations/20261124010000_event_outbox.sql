-- Every audit event also lands here, in the same transaction: consumers (webhooks, and
-- later the routing-state notifier) read it at their own pace and lose nothing when
-- they or their receivers are down.
CREATE TABLE event_outbox (
  seq            BIGSERIAL PRIMARY KEY,
  audit_id       TEXT NOT NULL REFERENCES audit_events(id),
  action         TEXT NOT NULL,
  subject_type   TEXT NOT NULL,
  subject_id     TEXT NOT NULL,
  created_at     TIMESTAMPTZ NOT NULL,
  dispatched_at  TIMESTAMPTZ
);
CREATE INDEX event_outbox_pending_idx ON event_outbox (seq) WHERE dispatched_at IS NULL;
