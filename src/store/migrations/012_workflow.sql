-- The saved workflow a session ran for (`workflow run <name>`, core/workflows/), NULL otherwise; and
-- for a retried attempt, the id of the workflow run's first attempt (each attempt is its own row).
ALTER TABLE sessions ADD COLUMN workflow TEXT;
ALTER TABLE sessions ADD COLUMN attempt_of TEXT;
CREATE INDEX IF NOT EXISTS sessions_workflow ON sessions (workflow);
