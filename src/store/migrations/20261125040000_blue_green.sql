-- Blue-green rollouts: the candidate is judged on mirrored (shadow) traffic while serving
-- none, then takes all traffic at once. A canary moves served traffic step by step.
ALTER TABLE rollouts ADD COLUMN mode TEXT NOT NULL DEFAULT 'canary' CHECK (mode IN ('canary', 'blue_green'));
