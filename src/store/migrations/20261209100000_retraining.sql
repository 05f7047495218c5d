-- Retraining tasks (src/modules/retraining/, issue 17): a monitor whose rule fires on a
-- production version opens a task for the model, or adds its evidence to the task already
-- open. A task then moves open → training → candidate_registered → evaluated → approved →
-- rolled_out → closed, or is dismissed with a written justification from any state before
-- closed. Every move is also an audit event (retraining.*), written in the same transaction.

CREATE TABLE retraining_tasks (
  id                    TEXT PRIMARY KEY,
  model_id              TEXT NOT NULL REFERENCES models(id),
  -- the production version whose breach opened the task
  version_id            TEXT NOT NULL REFERENCES model_versions(id),
  state                 TEXT NOT NULL CHECK (state IN ('open', 'training', 'candidate_registered', 'evaluated',
                                                      'approved', 'rolled_out', 'closed', 'dismissed')),
  -- the rule and metric of the first breach (later evidence may name others)
  rule                  TEXT NOT NULL,
  metric                TEXT NOT NULL,
  -- the suite candidate and production are compared on: pinned by start-training or by the first evaluation
  suite_hash            TEXT,
  -- the registered version that names this task in retrainedFrom
  candidate_version_id  TEXT REFERENCES model_versions(id),
  -- the latest evaluation verdict (passed or not), with the runs and the test's numbers
  evaluation            JSONB,
  -- the justification of a dismissal, or the note of a close
  resolution            TEXT,
  opened_by             TEXT NOT NULL,
  opened_at             TIMESTAMPTZ NOT NULL,
  updated_at            TIMESTAMPTZ NOT NULL,
  ended_at              TIMESTAMPTZ,
  CHECK ((state IN ('closed', 'dismissed')) = (ended_at IS NOT NULL))
);
-- One task per model in a state before closed or dismissed: two replicas whose monitors fire
-- at once cannot both open one (the service also locks the model row; this is the backstop).
CREATE UNIQUE INDEX retraining_tasks_one_open_idx ON retraining_tasks (model_id)
  WHERE state NOT IN ('closed', 'dismissed');
CREATE INDEX retraining_tasks_model_idx ON retraining_tasks (model_id, opened_at DESC);
CREATE INDEX retraining_tasks_state_idx ON retraining_tasks (state, opened_at DESC);
CREATE INDEX retraining_tasks_candidate_idx ON retraining_tasks (candidate_version_id)
  WHERE candidate_version_id IS NOT NULL;
CREATE TRIGGER retraining_tasks_no_delete BEFORE DELETE ON retraining_tasks
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_delete();
CREATE TRIGGER retraining_tasks_no_truncate BEFORE TRUNCATE ON retraining_tasks
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();

-- Each breach reported on a task: the first one and every one a continuing breach adds.
CREATE TABLE retraining_evidence (
  id           TEXT PRIMARY KEY,
  task_id      TEXT NOT NULL REFERENCES retraining_tasks(id),
  -- the version the monitor watched when the rule fired
  version_id   TEXT NOT NULL REFERENCES model_versions(id),
  rule         TEXT NOT NULL,
  metric       TEXT NOT NULL,
  -- { rule, metric, windows: [{ from, to, value, baseline, n, p?, breached }], summary, ... }
  evidence     JSONB NOT NULL,
  -- the earliest window start and the latest window end, for the dataset export
  window_from  TIMESTAMPTZ NOT NULL,
  window_to    TIMESTAMPTZ NOT NULL,
  added_by     TEXT NOT NULL,
  added_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX retraining_evidence_task_idx ON retraining_evidence (task_id, added_at, id);
CREATE TRIGGER retraining_evidence_append_only BEFORE UPDATE OR DELETE ON retraining_evidence
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_update();
CREATE TRIGGER retraining_evidence_no_truncate BEFORE TRUNCATE ON retraining_evidence
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();

-- Every state change of a task, in order (the audit log has them too, with the whole context).
CREATE TABLE retraining_transitions (
  id          TEXT PRIMARY KEY,
  task_id     TEXT NOT NULL REFERENCES retraining_tasks(id),
  from_state  TEXT,
  to_state    TEXT NOT NULL,
  reason      TEXT NOT NULL DEFAULT '',
  actor       TEXT NOT NULL,
  at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX retraining_transitions_task_idx ON retraining_transitions (task_id, at, id);
CREATE TRIGGER retraining_transitions_append_only BEFORE UPDATE OR DELETE ON retraining_transitions
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_update();
CREATE TRIGGER retraining_transitions_no_truncate BEFORE TRUNCATE ON retraining_transitions
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();

-- A version's lineage: the version it was retrained from and the task it answers. Written at
-- registration and never changed afterwards.
ALTER TABLE model_versions
  ADD COLUMN retrained_from_version_id TEXT REFERENCES model_versions(id),
  ADD COLUMN retraining_task_id TEXT REFERENCES retraining_tasks(id),
  ADD CHECK ((retrained_from_version_id IS NULL) = (retraining_task_id IS NULL));

CREATE FUNCTION model_versions_lineage_guard() RETURNS trigger AS $$
BEGIN
  IF NEW.retrained_from_version_id IS DISTINCT FROM OLD.retrained_from_version_id
     OR NEW.retraining_task_id IS DISTINCT FROM OLD.retraining_task_id THEN
    RAISE EXCEPTION 'model version %: what it was retrained from is fixed at registration', OLD.id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER model_versions_lineage_guard BEFORE UPDATE ON model_versions
  FOR EACH ROW EXECUTE FUNCTION model_versions_lineage_guard();

-- Feedback may carry the answer that should have been given; a retraining task's dataset
-- export uses it as the assistant turn.
ALTER TABLE feedback ADD COLUMN correction TEXT;
