-- Flags governed by the approval policy (issue 19, point 4).
--
-- * approval_policy.segments: segments of traffic (a condition over the evaluation context)
--   with what a version must have to be served to them (tags, release gates, sign-offs).
-- * approval_policy.flag_changes: rules naming which flag changes need sign-offs first.
-- * flag_change_requests: a change to a governed flag, held until its sign-offs are in; then
--   applied in the transaction of the last sign-off. One pending request per flag.
-- * flag_change_signoffs: who signed, for which role, append-only.

ALTER TABLE approval_policy ADD COLUMN segments JSONB NOT NULL DEFAULT '[]';
ALTER TABLE approval_policy ADD COLUMN flag_changes JSONB NOT NULL DEFAULT '[]';

CREATE TABLE flag_change_requests (
  id             TEXT PRIMARY KEY,
  flag_key       TEXT NOT NULL,
  change         TEXT NOT NULL CHECK (change IN ('created', 'updated', 'enabled', 'disabled', 'deleted')),
  -- the flag's revision the change was proposed against (NULL: the flag did not exist)
  base_revision  INTEGER,
  -- the flag as the change leaves it (NULL for a delete), as JSON to keep object variants' key order
  proposed       JSON,
  reason         TEXT NOT NULL DEFAULT '',
  requested_by   TEXT NOT NULL,
  -- the rules that asked for it, the roles and counts, one signer per role or not
  requirements   JSONB NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'rejected', 'withdrawn', 'superseded', 'lapsed')),
  created_at     TIMESTAMPTZ NOT NULL,
  expires_at     TIMESTAMPTZ NOT NULL,
  decided_at     TIMESTAMPTZ,
  decided_by     TEXT,
  applied_revision INTEGER
);
CREATE UNIQUE INDEX flag_change_requests_one_pending ON flag_change_requests (flag_key) WHERE status = 'pending';
CREATE INDEX flag_change_requests_key_idx ON flag_change_requests (flag_key, created_at DESC);

CREATE TABLE flag_change_signoffs (
  request_id  TEXT NOT NULL REFERENCES flag_change_requests(id),
  signer      TEXT NOT NULL,
  role        TEXT NOT NULL,
  decision    TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
  comment     TEXT NOT NULL DEFAULT '',
  token_id    TEXT,
  signed_at   TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (request_id, signer, role)
);
CREATE TRIGGER flag_change_signoffs_append_only BEFORE UPDATE OR DELETE ON flag_change_signoffs
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_update();
CREATE TRIGGER flag_change_signoffs_no_truncate BEFORE TRUNCATE ON flag_change_signoffs
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();
