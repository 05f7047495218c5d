-- A model's route can defer to a string flag (issue 19): for a request naming the bare model,
-- the flag's variant (`model@version` or `model@alias`) decides the version. NULL: no flag.
-- The key is not a foreign key: a deleted flag leaves the route on its normal split/production.
ALTER TABLE model_routes ADD COLUMN flag TEXT;
