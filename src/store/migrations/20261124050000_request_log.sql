-- Gateway request log and caller feedback. Both are written in batches off the hot path
-- (src/modules/gateway/log/): a batch that cannot reach the database waits in a local
-- spool and is replayed later, so inserts must be idempotent — hence ids chosen by the
-- writer and ON CONFLICT (id) DO NOTHING. Both tables are append-only.

-- One row per gateway request, keyed by the gateway's request id (req_…).
CREATE TABLE request_log (
  id             TEXT PRIMARY KEY,
  at             TIMESTAMPTZ NOT NULL,
  -- the token and its name (who depends on the model: blast radius); NULL only for a
  -- request refused before a token was recognised
  token_id       TEXT,
  client         TEXT,
  -- the registry model name (without @alias / @version)
  model          TEXT NOT NULL,
  -- the version that answered (or the last one tried); NULL when none was resolved
  version_id     TEXT,
  version        TEXT,
  route_reason   TEXT NOT NULL,
  endpoint       TEXT NOT NULL CHECK (endpoint IN ('chat.completions', 'messages')),
  stream         BOOLEAN NOT NULL,
  status         INTEGER NOT NULL,
  error_class    TEXT,
  total_ms       REAL NOT NULL,
  upstream_ms    REAL,
  tokens_in      INTEGER NOT NULL DEFAULT 0,
  tokens_out     INTEGER NOT NULL DEFAULT 0,
  cost_usd       DOUBLE PRECISION NOT NULL DEFAULT 0,
  -- [{ "version": "1.2.0", "outcome": "failed", "reason": "timeout", ... }, ...] in the order tried
  fallback_path  JSONB NOT NULL DEFAULT '[]',
  -- privacy: only hashes of the subject ('sha256:<hex>'), prompt and response; bodies only when sampled
  subject_hash   TEXT,
  groups         JSONB,
  prompt_hash    TEXT,
  response_hash  TEXT,
  sampled_body   JSONB
);
CREATE INDEX request_log_model_at_idx ON request_log (model, at);
CREATE INDEX request_log_version_at_idx ON request_log (version_id, at);
CREATE INDEX request_log_client_at_idx ON request_log (client, at);
CREATE TRIGGER request_log_append_only BEFORE UPDATE OR DELETE ON request_log
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_update();

-- Feedback on a gateway request. Several rows per request are allowed: feedback comes in
-- stages (an automatic success signal now, a reviewer's score later) and a uniqueness
-- check could not run anyway while a row waits in the spool. The id is derived from
-- (token, request, content), so a client retrying the same feedback adds nothing.
-- Analyses take the latest row per (request_id, client). request_id is not a foreign key:
-- feedback may arrive before its request's log row is flushed.
CREATE TABLE feedback (
  id          TEXT PRIMARY KEY,
  request_id  TEXT NOT NULL,
  at          TIMESTAMPTZ NOT NULL,
  success     BOOLEAN,
  score       DOUBLE PRECISION,
  labels      TEXT[] NOT NULL DEFAULT '{}',
  groups      JSONB NOT NULL DEFAULT '{}',
  comment     TEXT NOT NULL DEFAULT '',
  token_id    TEXT NOT NULL,
  client      TEXT NOT NULL,
  CHECK (success IS NOT NULL OR score IS NOT NULL)
);
CREATE INDEX feedback_request_idx ON feedback (request_id, at);
CREATE INDEX feedback_at_idx ON feedback (at);
CREATE TRIGGER feedback_append_only BEFORE UPDATE OR DELETE ON feedback
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_update();
