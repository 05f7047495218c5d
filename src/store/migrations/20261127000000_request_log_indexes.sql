-- The request log is the gateway's hottest write: every index is paid once per request.
-- Every reader of request_log filters by model and time (deps, rollout and experiment
-- windows, bias drift) or by id; none uses (version_id, at) or (client, at), which cost
-- the embedded store about a fifth of each row's insert. Dropped.
DROP INDEX IF EXISTS request_log_version_at_idx;
DROP INDEX IF EXISTS request_log_client_at_idx;
