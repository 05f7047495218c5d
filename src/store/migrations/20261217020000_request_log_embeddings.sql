-- The gateway serves POST /v1/embeddings (issue 20): its calls are logged like chat calls,
-- under endpoint 'embeddings' (tokens in, cost, latency, the version that served). The check
-- is replaced on the partitioned parent, which carries it to every partition, present and
-- future. Found by its definition rather than its name: the table was rebuilt once
-- (request_log_rollups), and the name PostgreSQL gave the check is not ours to rely on.
DO $$
DECLARE c TEXT;
BEGIN
  FOR c IN
    SELECT conname FROM pg_constraint
     WHERE conrelid = 'request_log'::regclass AND contype = 'c'
       AND pg_get_constraintdef(oid) LIKE '%endpoint%'
  LOOP
    EXECUTE format('ALTER TABLE request_log DROP CONSTRAINT %I', c);
  END LOOP;
END $$;
ALTER TABLE request_log ADD CONSTRAINT request_log_endpoint_check
  CHECK (endpoint IN ('chat.completions', 'messages', 'embeddings'));
