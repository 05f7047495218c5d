-- Feature flags (issue 19).
--
-- * flags: each flag's current definition (variants, default, enabled, rules, schedule) as JSON
--   (not JSONB: an object variant's value keeps its key order). Deleting a flag deletes its row.
-- * flag_revisions: every change to a flag, append-only (created, updated, enabled, disabled,
--   deleted), with the definition it left (NULL once deleted); "the flag as it was at T" is the
--   last revision at or before T. A flag re-created after a delete continues its numbering.
--   seq orders every change of every flag: the evaluators reload when it moves.

CREATE TABLE flags (
  key          TEXT PRIMARY KEY,
  type         TEXT NOT NULL CHECK (type IN ('boolean', 'string', 'number', 'object')),
  description  TEXT NOT NULL DEFAULT '',
  definition   JSON NOT NULL,
  revision     INTEGER NOT NULL,
  created_at   TIMESTAMPTZ NOT NULL,
  created_by   TEXT NOT NULL,
  updated_at   TIMESTAMPTZ NOT NULL,
  updated_by   TEXT NOT NULL
);

CREATE TABLE flag_revisions (
  seq          BIGSERIAL UNIQUE,
  key          TEXT NOT NULL,
  revision     INTEGER NOT NULL,
  change       TEXT NOT NULL CHECK (change IN ('created', 'updated', 'enabled', 'disabled', 'deleted')),
  type         TEXT,
  description  TEXT,
  definition   JSON,
  actor        TEXT NOT NULL,
  at           TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (key, revision)
);
CREATE INDEX flag_revisions_at_idx ON flag_revisions (key, at);
CREATE TRIGGER flag_revisions_append_only BEFORE UPDATE OR DELETE ON flag_revisions
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_update();
-- TRUNCATE fires no row trigger: refused on its own (the audit hardening's rule).
CREATE TRIGGER flag_revisions_no_truncate BEFORE TRUNCATE ON flag_revisions
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();
