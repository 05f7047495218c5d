-- Registry, lifecycle, aliases, model cards, registry policy and the audit log.
-- Conventions: TEXT ids with a prefix, TIMESTAMPTZ times, forward-only; never edit once merged.

CREATE TABLE models (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  owner         TEXT NOT NULL,
  description   TEXT NOT NULL DEFAULT '',
  use_cases     TEXT[] NOT NULL DEFAULT '{}',
  risk_tier     TEXT NOT NULL,
  tags          TEXT[] NOT NULL DEFAULT '{}',
  retention     JSONB,
  created_by    TEXT NOT NULL,
  created_at    TIMESTAMPTZ NOT NULL,
  updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX models_use_cases_idx ON models USING GIN (use_cases);
CREATE INDEX models_tags_idx ON models USING GIN (tags);
CREATE INDEX models_owner_idx ON models (owner);

CREATE TABLE model_versions (
  id                 TEXT PRIMARY KEY,
  model_id           TEXT NOT NULL REFERENCES models(id),
  version            TEXT NOT NULL,
  major              INTEGER NOT NULL,
  minor              INTEGER NOT NULL,
  patch              INTEGER NOT NULL,
  prerelease         TEXT NOT NULL DEFAULT '',
  provider           TEXT NOT NULL,
  provider_model_id  TEXT NOT NULL,
  endpoint           TEXT,
  parameters         JSONB NOT NULL DEFAULT '{}',
  artifact_uri       TEXT,
  artifact_digest    TEXT,
  contract           JSONB,
  changelog          TEXT NOT NULL DEFAULT '',
  pinned_digest      TEXT NOT NULL,
  metrics            JSONB NOT NULL DEFAULT '{}',
  limitations        TEXT[] NOT NULL DEFAULT '{}',
  tags               TEXT[] NOT NULL DEFAULT '{}',
  status             TEXT NOT NULL,
  promoted_at        TIMESTAMPTZ,
  created_by         TEXT NOT NULL,
  created_at         TIMESTAMPTZ NOT NULL,
  updated_at         TIMESTAMPTZ NOT NULL,
  -- semver precedence ignores build metadata: 1.0.0+a and 1.0.0+b are the same version.
  UNIQUE (model_id, major, minor, patch, prerelease)
);
CREATE INDEX model_versions_model_idx ON model_versions (model_id, major DESC, minor DESC, patch DESC);
CREATE INDEX model_versions_status_idx ON model_versions (status);
CREATE INDEX model_versions_provider_idx ON model_versions (provider);
CREATE INDEX model_versions_created_idx ON model_versions (created_at DESC, id DESC);
CREATE INDEX model_versions_tags_idx ON model_versions USING GIN (tags);

-- What a version is pinned to never changes, whatever writes to the table.
CREATE FUNCTION model_versions_pinned_guard() RETURNS trigger AS $$
BEGIN
  IF NEW.model_id IS DISTINCT FROM OLD.model_id
     OR NEW.version IS DISTINCT FROM OLD.version
     OR NEW.provider IS DISTINCT FROM OLD.provider
     OR NEW.provider_model_id IS DISTINCT FROM OLD.provider_model_id
     OR NEW.endpoint IS DISTINCT FROM OLD.endpoint
     OR NEW.parameters IS DISTINCT FROM OLD.parameters
     OR NEW.artifact_uri IS DISTINCT FROM OLD.artifact_uri
     OR NEW.artifact_digest IS DISTINCT FROM OLD.artifact_digest
     OR NEW.contract IS DISTINCT FROM OLD.contract
     OR NEW.changelog IS DISTINCT FROM OLD.changelog
     OR NEW.pinned_digest IS DISTINCT FROM OLD.pinned_digest THEN
    RAISE EXCEPTION 'model version % is pinned: its pinned fields are immutable', OLD.id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER model_versions_pinned_guard BEFORE UPDATE ON model_versions
  FOR EACH ROW EXECUTE FUNCTION model_versions_pinned_guard();

CREATE FUNCTION modelgov_no_delete() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'rows of % are never deleted', TG_TABLE_NAME USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER model_versions_no_delete BEFORE DELETE ON model_versions
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_delete();
CREATE TRIGGER models_no_delete BEFORE DELETE ON models
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_delete();

CREATE TABLE version_status_history (
  id           TEXT PRIMARY KEY,
  version_id   TEXT NOT NULL REFERENCES model_versions(id),
  from_status  TEXT,
  to_status    TEXT NOT NULL,
  reason       TEXT NOT NULL DEFAULT '',
  actor        TEXT NOT NULL,
  at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX version_status_history_idx ON version_status_history (version_id, at);

CREATE TABLE aliases (
  model_id    TEXT NOT NULL REFERENCES models(id),
  alias       TEXT NOT NULL,
  version_id  TEXT NOT NULL REFERENCES model_versions(id),
  updated_at  TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (model_id, alias)
);
CREATE INDEX aliases_version_idx ON aliases (version_id);

-- Every move of every alias, so "what did production point to at T" has an answer.
-- version_id NULL records that the alias was removed.
CREATE TABLE alias_history (
  id                   TEXT PRIMARY KEY,
  model_id             TEXT NOT NULL REFERENCES models(id),
  alias                TEXT NOT NULL,
  version_id           TEXT REFERENCES model_versions(id),
  previous_version_id  TEXT REFERENCES model_versions(id),
  reason               TEXT NOT NULL DEFAULT '',
  actor                TEXT NOT NULL,
  at                   TIMESTAMPTZ NOT NULL,
  seq                  BIGSERIAL
);
CREATE INDEX alias_history_idx ON alias_history (model_id, alias, at DESC, seq DESC);

-- Card revisions are append-only: an edit is a new row, never an update.
CREATE TABLE card_revisions (
  id           TEXT PRIMARY KEY,
  version_id   TEXT NOT NULL REFERENCES model_versions(id),
  revision     INTEGER NOT NULL,
  -- JSON, not JSONB: a card is a document, and its front matter keeps its key order.
  content      JSON NOT NULL,
  content_hash TEXT NOT NULL,
  source       TEXT NOT NULL,
  created_by   TEXT NOT NULL,
  created_at   TIMESTAMPTZ NOT NULL,
  UNIQUE (version_id, revision)
);

CREATE FUNCTION modelgov_no_update() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'rows of % are append-only', TG_TABLE_NAME USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER card_revisions_append_only BEFORE UPDATE OR DELETE ON card_revisions
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_update();
CREATE TRIGGER alias_history_append_only BEFORE UPDATE OR DELETE ON alias_history
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_update();
CREATE TRIGGER version_status_history_append_only BEFORE UPDATE OR DELETE ON version_status_history
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_update();

-- Workspace-wide registry policy (retention, required card sections), set by `apply`.
CREATE TABLE registry_policy (
  id          TEXT PRIMARY KEY DEFAULT 'default' CHECK (id = 'default'),
  policy      JSONB NOT NULL,
  updated_at  TIMESTAMPTZ NOT NULL
);

-- Every change, written in the same transaction as the change itself.
CREATE TABLE audit_events (
  id            TEXT PRIMARY KEY,
  seq           BIGSERIAL UNIQUE,
  at            TIMESTAMPTZ NOT NULL,
  actor         TEXT NOT NULL,
  action        TEXT NOT NULL,
  subject_type  TEXT NOT NULL,
  subject_id    TEXT NOT NULL,
  before        JSONB,
  after         JSONB,
  reason        TEXT NOT NULL DEFAULT '',
  request_id    TEXT
);
CREATE INDEX audit_events_subject_idx ON audit_events (subject_type, subject_id, seq);
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_update();
