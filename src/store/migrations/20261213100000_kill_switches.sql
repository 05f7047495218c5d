-- Kill switches (issue 19): an operator takes a model version, or every version on a
-- provider, out of service everywhere. A row is engaged until released; rows are never
-- deleted and a release is written once, so the table is the switch's history (the audit
-- chain has the same events). `target` is a version id or a provider name.
CREATE TABLE kill_switches (
  id              TEXT PRIMARY KEY,
  scope           TEXT NOT NULL CHECK (scope IN ('version', 'provider')),
  target          TEXT NOT NULL,
  version_id      TEXT REFERENCES model_versions(id),
  label           TEXT NOT NULL,
  reason          TEXT NOT NULL CHECK (reason <> ''),
  engaged_by      TEXT NOT NULL,
  engaged_at      TIMESTAMPTZ NOT NULL,
  released_by     TEXT,
  released_at     TIMESTAMPTZ,
  release_reason  TEXT,
  CHECK ((scope = 'version') = (version_id IS NOT NULL))
);
-- One engaged switch per target: engaging it twice is a conflict, not a second row.
CREATE UNIQUE INDEX kill_switches_engaged ON kill_switches (scope, target) WHERE released_at IS NULL;
CREATE INDEX kill_switches_engaged_at ON kill_switches (engaged_at DESC, id DESC);

CREATE FUNCTION kill_switches_release_once() RETURNS trigger AS $$
BEGIN
  IF OLD.released_at IS NOT NULL OR NEW.released_at IS NULL
     OR NEW.id <> OLD.id OR NEW.scope <> OLD.scope OR NEW.target <> OLD.target
     OR NEW.reason <> OLD.reason OR NEW.engaged_by <> OLD.engaged_by OR NEW.engaged_at <> OLD.engaged_at THEN
    RAISE EXCEPTION 'a kill switch is only ever released, once' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER kill_switches_release_once BEFORE UPDATE ON kill_switches
  FOR EACH ROW EXECUTE FUNCTION kill_switches_release_once();
CREATE TRIGGER kill_switches_no_delete BEFORE DELETE ON kill_switches
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_delete();
