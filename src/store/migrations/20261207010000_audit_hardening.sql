-- Issue 14 (5): the app's own database role must not be able to tamper with the audit log.
-- Privileges do most of it (`modelgov db grants`: the app role owns nothing, so it cannot
-- DISABLE TRIGGER, and it gets no UPDATE/DELETE/TRUNCATE on append-only tables); these
-- triggers are the second layer, and the only one on the embedded store, where everything
-- runs as one superuser.

-- TRUNCATE fires no row triggers, so the append-only ones never see it; and
-- `TRUNCATE audit_events CASCADE` would empty the outbox and the webhook deliveries too.
-- A statement trigger refuses it (it fires for every table a cascade reaches as well).
CREATE FUNCTION modelgov_no_truncate() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% cannot be truncated: its rows are kept for the audit trail', TG_TABLE_NAME
    USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();
CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();
CREATE TRIGGER event_outbox_no_truncate BEFORE TRUNCATE ON event_outbox
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();
CREATE TRIGGER models_no_truncate BEFORE TRUNCATE ON models
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();
CREATE TRIGGER model_versions_no_truncate BEFORE TRUNCATE ON model_versions
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();
CREATE TRIGGER card_revisions_no_truncate BEFORE TRUNCATE ON card_revisions
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();
CREATE TRIGGER alias_history_no_truncate BEFORE TRUNCATE ON alias_history
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();
CREATE TRIGGER version_status_history_no_truncate BEFORE TRUNCATE ON version_status_history
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();
CREATE TRIGGER evidence_no_truncate BEFORE TRUNCATE ON evidence
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();
CREATE TRIGGER approval_signoffs_no_truncate BEFORE TRUNCATE ON approval_signoffs
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();
CREATE TRIGGER request_log_no_truncate BEFORE TRUNCATE ON request_log
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();
CREATE TRIGGER feedback_no_truncate BEFORE TRUNCATE ON feedback
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();
CREATE TRIGGER rollout_decisions_no_truncate BEFORE TRUNCATE ON rollout_decisions
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();
CREATE TRIGGER eval_case_results_no_truncate BEFORE TRUNCATE ON eval_case_results
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();
CREATE TRIGGER bias_drift_points_no_truncate BEFORE TRUNCATE ON bias_drift_points
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();
CREATE TRIGGER bias_drift_windows_no_truncate BEFORE TRUNCATE ON bias_drift_windows
  FOR EACH STATEMENT EXECUTE FUNCTION modelgov_no_truncate();

-- The chain head moves on every append, so the app role must be able to UPDATE it. What it
-- must not do is rewrite it: move it back over a cut tail, or point it at a hash the events
-- do not reach (every later append would then link to a forgery). So an UPDATE may only move
-- the head forward over events that already sit in audit_events, each linking to the one
-- before, starting from the old head's hash and ending at the new head's hash and event id.
-- Events are inserted before the head moves (audit.store.ts sealEvents), in the same
-- transaction, so the check sees them; the app role cannot change them afterwards.
-- A SECURITY DEFINER function that advances the head was the alternative; it would need a
-- second function for the lock taken before hashing (SELECT ... FOR UPDATE needs UPDATE), a
-- pinned search_path, and would guard nothing on the embedded store. The trigger holds for
-- every role except the table's owner, who can disable it (and is trusted: docs/audit.md).
CREATE FUNCTION audit_chain_head_guard() RETURNS trigger AS $$
DECLARE
  linked BIGINT;
  last_hash TEXT;
  last_id TEXT;
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'the audit chain head cannot be deleted' USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.id IS DISTINCT FROM OLD.id THEN
    RAISE EXCEPTION 'the audit chain head row keeps its id' USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.seq = OLD.seq AND NEW.hash = OLD.hash AND NEW.event_id IS NOT DISTINCT FROM OLD.event_id THEN
    RETURN NEW;
  END IF;
  IF NEW.seq <= OLD.seq THEN
    RAISE EXCEPTION 'the audit chain head only moves forward: from position % it cannot go to %', OLD.seq, NEW.seq
      USING ERRCODE = 'check_violation';
  END IF;
  -- Positions are unique, so this counts each position between the heads at most once.
  SELECT count(*) INTO linked
    FROM audit_events e
   WHERE e.position > OLD.seq AND e.position <= NEW.seq
     AND e.prev_hash = CASE WHEN e.position = OLD.seq + 1 THEN OLD.hash
                            ELSE (SELECT p.hash FROM audit_events p WHERE p.position = e.position - 1) END;
  SELECT e.hash, e.id INTO last_hash, last_id FROM audit_events e WHERE e.position = NEW.seq;
  IF linked <> NEW.seq - OLD.seq OR last_hash IS DISTINCT FROM NEW.hash OR last_id IS DISTINCT FROM NEW.event_id THEN
    RAISE EXCEPTION 'the audit chain head may only move to the last of the events appended after it, each linking to the one before (from position % to %)', OLD.seq, NEW.seq
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_chain_head_guard BEFORE UPDATE OR DELETE ON audit_chain_head
  FOR EACH ROW EXECUTE FUNCTION audit_chain_head_guard();
