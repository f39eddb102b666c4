-- The session registry: one row per run of an agent (sandboxed) or a local interactive session.
CREATE TABLE sessions (
  id               TEXT PRIMARY KEY,
  kind             TEXT NOT NULL DEFAULT 'sandbox' CHECK (kind IN ('sandbox', 'local')),
  repo_path        TEXT NOT NULL,
  base_ref         TEXT,
  base_commit      TEXT,
  branch           TEXT,
  worktree_path    TEXT,
  provider         TEXT NOT NULL,
  sandbox_id       TEXT,
  status           TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'initializing', 'running', 'completed', 'failed', 'timed_out', 'killed')),
  prompt_hash      TEXT,
  prompt_path      TEXT,
  prompt_excerpt   TEXT,
  pid              INTEGER,
  timeout_seconds  INTEGER,
  created_at       TEXT NOT NULL,
  started_at       TEXT,
  completed_at     TEXT,
  updated_at       TEXT NOT NULL,
  exit_code        INTEGER,
  cost_usd         REAL,
  input_tokens     INTEGER,
  output_tokens    INTEGER,
  output_log_path  TEXT,
  session_dir      TEXT,
  error            TEXT,
  commits          INTEGER,
  files_changed    INTEGER,
  last_activity_at TEXT,
  last_activity    TEXT
);

CREATE INDEX idx_sessions_repo ON sessions (repo_path, status);
CREATE INDEX idx_sessions_status ON sessions (status, created_at);
