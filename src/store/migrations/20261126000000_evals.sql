-- Evaluation runs (src/modules/evals/). A suite is stored once, by content hash; a run
-- evaluates one version on one suite. Each case's result is its own row, written the
-- moment the case is scored: a runner that dies midway leaves every finished case behind,
-- and the next runner (same process after a restart, or another replica) does only the
-- rest. A runner holds a run through a lease row (controller_leases, name `eval:<run id>`).
CREATE TABLE eval_suites (
  hash        TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  case_count  INTEGER NOT NULL,
  content     JSONB NOT NULL,
  created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE eval_runs (
  id            TEXT PRIMARY KEY,
  version_id    TEXT NOT NULL REFERENCES model_versions(id),
  suite_hash    TEXT NOT NULL REFERENCES eval_suites(hash),
  suite_name    TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
  -- concurrency, retries, outputs (text | hash), intersections, min group size
  options       JSONB NOT NULL,
  total         INTEGER NOT NULL,
  created_by    TEXT NOT NULL,
  created_at    TIMESTAMPTZ NOT NULL,
  finished_at   TIMESTAMPTZ,
  -- aggregate, group breakdown and gate verdicts, once completed; hashed as evidence
  report        JSONB,
  report_hash   TEXT,
  error         TEXT
);
CREATE INDEX eval_runs_version_idx ON eval_runs (version_id, created_at DESC);
CREATE INDEX eval_runs_running_idx ON eval_runs (status) WHERE status = 'running';
-- One unfinished run per version and suite: starting it again resumes it.
CREATE UNIQUE INDEX eval_runs_one_running ON eval_runs (version_id, suite_hash) WHERE status = 'running';

CREATE TABLE eval_case_results (
  run_id            TEXT NOT NULL REFERENCES eval_runs(id),
  case_id           TEXT NOT NULL,
  seq               BIGSERIAL,
  passed            BOOLEAN NOT NULL,
  score             DOUBLE PRECISION NOT NULL,
  safety_violation  BOOLEAN NOT NULL,
  -- the answer, or null when the run keeps hashes only
  output            TEXT,
  output_hash       TEXT,
  latency_ms        DOUBLE PRECISION NOT NULL,
  tokens_in         INTEGER NOT NULL,
  tokens_out        INTEGER NOT NULL,
  cost_usd          DOUBLE PRECISION NOT NULL,
  attempts          INTEGER NOT NULL,
  error             TEXT,
  -- one verdict per scorer: kind, score, passed, reason
  scorers           JSONB NOT NULL,
  attributes        JSONB NOT NULL,
  recorded_at       TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (run_id, case_id)
);
CREATE TRIGGER eval_case_results_append_only BEFORE UPDATE OR DELETE ON eval_case_results
  FOR EACH ROW EXECUTE FUNCTION modelgov_no_update();

-- Release gates live beside the approval rules (one policy document).
ALTER TABLE approval_policy ADD COLUMN gates JSONB NOT NULL DEFAULT '[]';

-- Evidence produced by an evaluation run points at it, with the numbers the gates saw.
ALTER TABLE evidence ADD COLUMN run_id TEXT REFERENCES eval_runs(id);
ALTER TABLE evidence ADD COLUMN details JSONB;
