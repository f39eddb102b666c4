-- The environment template a run used (--template name, a file, or sandbox-config); NULL when none.
ALTER TABLE sessions ADD COLUMN template TEXT;
