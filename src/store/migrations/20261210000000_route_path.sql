-- Multi-model routing (issue 18): what a router did with a request. For a router version's
-- request, one element per tier it called (or refused), in order: the tier, the version that
-- answered or the reason it did not, the outcome (served, escalated, outvoted, failed,
-- refused), the reason of an escalation, and the member's own tokens, cost and time. NULL for
-- a request no router handled. Added on the parent: every day partition has it.
ALTER TABLE request_log ADD COLUMN route_path JSONB;
