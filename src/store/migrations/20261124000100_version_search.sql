-- Free-text search over versions through one trigram index instead of a scan over five
-- columns and a join. `search_text` is kept by a trigger, whoever writes the row.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE model_versions ADD COLUMN search_text TEXT NOT NULL DEFAULT '';

CREATE FUNCTION model_versions_search_text() RETURNS trigger AS $$
BEGIN
  NEW.search_text := lower(concat_ws(' ',
    (SELECT name FROM models WHERE id = NEW.model_id),
    NEW.version, NEW.provider, NEW.provider_model_id, NEW.changelog, array_to_string(NEW.tags, ' ')));
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER model_versions_search_text BEFORE INSERT OR UPDATE OF tags ON model_versions
  FOR EACH ROW EXECUTE FUNCTION model_versions_search_text();

UPDATE model_versions SET tags = tags;

CREATE INDEX model_versions_search_idx ON model_versions USING GIN (search_text gin_trgm_ops);
