-- Statuses for --multi (over_budget, skipped) and columns for task groups and local sessions.
-- SQLite cannot alter a CHECK constraint, so the table is rebuilt (inside the migration's transaction).
CREATE TABLE sessions_new (
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
                   CHECK (status IN ('pending', 'initializing', 'running', 'completed', 'failed', 'timed_out', 'killed', 'over_budget', 'skipped')),
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
  last_activity    TEXT,
  -- --multi: the batch a task belongs to and its task id within it.
  group_id         TEXT,
  task_id          TEXT,
  -- Local (claude-parallel) sessions: last heartbeat from the hook/wrapper.
  heartbeat_at     TEXT,
  -- When cleanup finished an orphaned session (worktree/sandbox removed).
  cleaned_at       TEXT,
  -- The sandbox repo's start commit, recorded on the host before the agent runs (results = start..HEAD).
  sandbox_start    TEXT
);
INSERT INTO sessions_new (id, kind, repo_path, base_ref, base_commit, branch, worktree_path, provider, sandbox_id, status,
  prompt_hash, prompt_path, prompt_excerpt, pid, timeout_seconds, created_at, started_at, completed_at, updated_at, exit_code,
  cost_usd, input_tokens, output_tokens, output_log_path, session_dir, error, commits, files_changed, last_activity_at, last_activity)
SELECT id, kind, repo_path, base_ref, base_commit, branch, worktree_path, provider, sandbox_id, status,
  prompt_hash, prompt_path, prompt_excerpt, pid, timeout_seconds, created_at, started_at, completed_at, updated_at, exit_code,
  cost_usd, input_tokens, output_tokens, output_log_path, session_dir, error, commits, files_changed, last_activity_at, last_activity
FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX idx_sessions_repo ON sessions (repo_path, status);
CREATE INDEX idx_sessions_status ON sessions (status, created_at);
CREATE INDEX idx_sessions_group ON sessions (group_id);
CREATE INDEX idx_sessions_pid ON sessions (pid) WHERE kind = 'local';
