-- The audit log becomes a hash chain: every event stores its position, the hash of the
-- event before it and its own SHA-256 over canonical JSON (src/modules/audit/chain.ts).
-- Positions and hashes are assigned just before COMMIT under the lock on the one head row,
-- so concurrent writers append one after the other and positions have no gaps.

-- Events written before the chain existed cannot be hashed here (the hash is over RFC 8785
-- JSON, which SQL does not produce); only development stores can hold them. Say so plainly
-- instead of failing on the NOT NULL below with a message that names no cause.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM audit_events) THEN
    RAISE EXCEPTION 'audit_events already holds events written before the audit hash chain; this store predates it (development data): start from a fresh data folder or database';
  END IF;
END;
$$;

ALTER TABLE audit_events
  ADD COLUMN position  BIGINT NOT NULL,
  ADD COLUMN prev_hash TEXT NOT NULL,
  ADD COLUMN hash      TEXT NOT NULL;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_position_key UNIQUE (position);

-- The chain head: the position and hash of the last event. Locking this row serialises
-- appends; position 0 carries the genesis hash, sha256("modelgov-audit-genesis").
CREATE TABLE audit_chain_head (
  id        TEXT PRIMARY KEY CHECK (id = 'head'),
  seq       BIGINT NOT NULL,
  hash      TEXT NOT NULL,
  event_id  TEXT
);
INSERT INTO audit_chain_head (id, seq, hash, event_id)
VALUES ('head', 0, '0ee63bb9b2887b03cb8b57564f206f18fb3f3739f153f999a0aa68b3558587ca', NULL);
