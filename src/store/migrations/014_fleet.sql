-- Issue 24: the model API fleet shared by every parallel-cc process of the machine (no daemon).
-- One row per model request the broker let go: in flight while ended_at is NULL, then counted in
-- the requests/tokens-per-minute window until it ages out. started_at becomes the time upstream's
-- answer began (upstream received it before). Leases of dead processes are ended.
CREATE TABLE IF NOT EXISTS model_api_requests (
  lease TEXT PRIMARY KEY,
  pid INTEGER NOT NULL,
  session_id TEXT,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  tokens INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS model_api_requests_started ON model_api_requests (started_at);
-- The fleet-wide hold after the model API rate limited us (429/529): no request starts before
-- until_ms (epoch ms). `status` and the dashboard read it.
CREATE TABLE IF NOT EXISTS model_api_hold (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  until_ms INTEGER NOT NULL,
  reason TEXT NOT NULL,
  set_at INTEGER NOT NULL,
  pid INTEGER
);
