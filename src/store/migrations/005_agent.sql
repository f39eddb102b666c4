-- Which agent CLI a session runs (agents/registry.ts: claude, command, …). NULL on rows from
-- before this column: those ran claude.
ALTER TABLE sessions ADD COLUMN agent TEXT;
