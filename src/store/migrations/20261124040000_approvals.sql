-- Approvals: policy rules, evidence attached to versions by content hash, requests and
-- sign-offs. Evidence and sign-offs are append-only; a request changes only its status.
CREATE TABLE approval_policy (
  id          TEXT PRIMARY KEY DEFAULT 'default' CHECK (id = 'default'),
  rules       JSONB NOT NULL,
  updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE evidence (
  id            TEXT PRIMARY KEY,
  version_id    TEXT NOT NULL REFERENCES model_versions(id),
  kind          TEXT NOT NULL,
  uri           TEXT NOT NULL,
  content_hash  TEXT NOT NULL,
  passed        BOOLEAN,
  summary       TEXT NOT NULL DEFAULT '',
  attached_by   TEXT NOT NULL,
  attached_at   TIMESTAMPTZ NOT NULL,
  seq           BIGSERIAL
);
CREATE INDEX evidence_version_idx ON evidence (version_id, kind, seq DESC);
CREATE TRIGGER evidence_append_only BEFORE UPDATE OR DELETE ON evidence
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_update();

CREATE TABLE approval_requests (
  id            TEXT PRIMARY KEY,
  version_id    TEXT NOT NULL REFERENCES model_versions(id),
  requested_by  TEXT NOT NULL,
  summary       TEXT NOT NULL DEFAULT '',
  evidence_refs JSONB NOT NULL DEFAULT '[]',
  status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'voided')),
  card_hash     TEXT,
  evidence      JSONB NOT NULL,
  requirements  JSONB NOT NULL,
  created_at    TIMESTAMPTZ NOT NULL,
  decided_at    TIMESTAMPTZ,
  voided_at     TIMESTAMPTZ,
  void_reason   TEXT
);
CREATE INDEX approval_requests_version_idx ON approval_requests (version_id, created_at DESC);
-- One open request per version at a time.
CREATE UNIQUE INDEX approval_requests_one_pending ON approval_requests (version_id) WHERE status = 'pending';

CREATE TABLE approval_signoffs (
  id             TEXT PRIMARY KEY,
  request_id     TEXT NOT NULL REFERENCES approval_requests(id),
  signer         TEXT NOT NULL,
  token_id       TEXT,
  role           TEXT NOT NULL,
  decision       TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
  comment        TEXT NOT NULL DEFAULT '',
  evidence_refs  JSONB NOT NULL DEFAULT '[]',
  signed_at      TIMESTAMPTZ NOT NULL,
  UNIQUE (request_id, signer, role)
);
CREATE TRIGGER approval_signoffs_append_only BEFORE UPDATE OR DELETE ON approval_signoffs
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_update();
