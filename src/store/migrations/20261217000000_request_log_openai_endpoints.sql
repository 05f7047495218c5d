-- The gateway answers OpenAI's Responses API (/v1/responses) and legacy Completions
-- (/v1/completions) through the same chat path, and logs them with their endpoint; the
-- embeddings endpoint is allowed here too, so the set is whole whichever lands first.
-- The old check's name depends on the table's history (the partitioned table was created
-- beside the old one), so it is found by what it checks. On the partitioned table the new
-- check reaches every partition.
DO $$
DECLARE c TEXT;
BEGIN
  FOR c IN SELECT conname FROM pg_constraint
            WHERE conrelid = 'request_log'::regclass AND contype = 'c'
              AND pg_get_constraintdef(oid) LIKE '%endpoint%' LOOP
    EXECUTE format('ALTER TABLE request_log DROP CONSTRAINT %I', c);
  END LOOP;
END $$;
ALTER TABLE request_log ADD CONSTRAINT request_log_endpoint_in_set
  CHECK (endpoint IN ('chat.completions', 'messages', 'responses', 'completions', 'embeddings'));
