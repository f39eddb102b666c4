-- When a session took a sandbox slot of its provider under config `limits` (maxConcurrentSandboxes,
-- sandboxesPerMinute); NULL when no limit applied. Indexed for the per-provider count.
ALTER TABLE sessions ADD COLUMN slot_at TEXT;
CREATE INDEX IF NOT EXISTS sessions_provider_slot ON sessions (provider, slot_at);
