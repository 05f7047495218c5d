-- Evidence provenance: computed by a platform evaluation run (run_id set, which only the
-- run's completion writes) or attested by the person who attached it. Generated, so no
-- writer can claim a provenance its row does not have.
ALTER TABLE evidence ADD COLUMN provenance TEXT NOT NULL
  GENERATED ALWAYS AS (CASE WHEN run_id IS NULL THEN 'attested' ELSE 'computed' END) STORED;
