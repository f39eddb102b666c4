-- The lifecycle hooks a run ran in its sandbox (--setup, --on-success, --on-failure): a JSON array of
-- {hook, command, exitCode, timedOut, durationMs}; NULL when none.
ALTER TABLE sessions ADD COLUMN hooks TEXT;
