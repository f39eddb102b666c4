-- The components a sandbox run installed (`--agent`, `--command`, `--mcp`, `--setting`, `--hook`):
-- a JSON array of "kind:name (source)" labels; NULL when none.
ALTER TABLE sessions ADD COLUMN components TEXT;
