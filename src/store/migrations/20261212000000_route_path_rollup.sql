-- Success by path (issue 18): what each path through a router version did.
--
-- * request_log.route_key: a router version's request's path, derived by the writer from
--   route_path when the request is logged (src/modules/request-log/route-key.ts): the tier a
--   `route` policy chose (`strong`), a cascade's tiers in the order called (`cheap>strong`), an
--   ensemble's chosen tier (`cheap`); `(none)` when no tier answered. NULL for a request no
--   router handled. Added on the parent: every day partition has it. Rows logged before this
--   migration (route_path is new in the same release) keep NULL and are not summed.
-- * request_path_rollup_hour: per model, hour, routed (router) version and path, served
--   requests, errors, cost and the latest feedback's counts, kept by the writers in each
--   batch's transaction with the other roll-ups (late and superseding feedback move its counts
--   as they move request_rollup's), expired with them by the retention job.

ALTER TABLE request_log ADD COLUMN route_key TEXT;

CREATE TABLE request_path_rollup_hour (
  model       TEXT NOT NULL,
  hour        TIMESTAMPTZ NOT NULL,
  -- the routed version: the router version the route chose
  version_id  TEXT NOT NULL,
  path        TEXT NOT NULL,
  requests    INTEGER NOT NULL DEFAULT 0,
  -- a 5xx, or a first attempt not served (request_rollup's rule)
  errors      INTEGER NOT NULL DEFAULT 0,
  -- the requests' cost: every tier called, summed
  cost_usd    DOUBLE PRECISION NOT NULL DEFAULT 0,
  -- requests whose latest feedback says success or failure; of those, successes
  feedback    INTEGER NOT NULL DEFAULT 0,
  successes   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (model, hour, version_id, path)
);
CREATE INDEX request_path_rollup_hour_hour_idx ON request_path_rollup_hour (hour);
