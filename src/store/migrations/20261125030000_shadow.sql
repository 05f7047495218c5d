-- Shadow mode: a share of a model's live traffic is mirrored to another version whose
-- answers are never returned. Each mirrored call is a request_log row of its own, naming the
-- request it mirrors (shadow_of) and whether the two answers agreed; analyses of served
-- traffic leave those rows out.
ALTER TABLE model_routes ADD COLUMN shadow JSONB;
ALTER TABLE request_log ADD COLUMN shadow_of TEXT;
ALTER TABLE request_log ADD COLUMN agreement BOOLEAN;
CREATE INDEX request_log_shadow_idx ON request_log (model, at) WHERE shadow_of IS NOT NULL;
