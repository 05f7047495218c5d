-- Router evaluation (issue 18): what the router did with each case of a run on a router
-- version: the tier that answered, why, the version of its model, the router's score (two-tier
-- complexity or trained routers: the number its threshold is compared with) and, for a cascade
-- or an ensemble, every tier called with its outcome. NULL for a case of a plain version. The
-- evaluation's routing section (per tier, the cost-quality curve) and `modelgov router
-- calibrate` read it.
ALTER TABLE eval_case_results ADD COLUMN route JSONB;
