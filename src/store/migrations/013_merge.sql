-- Issue #23 (merge queue, resume). When `parallel-cc merge` landed a session's branch: the branch it
-- went into, the commit that landed it and when. `resumed_from`: a `sandbox resume` child session's parent.
ALTER TABLE sessions ADD COLUMN merged_into TEXT;
ALTER TABLE sessions ADD COLUMN merged_commit TEXT;
ALTER TABLE sessions ADD COLUMN merged_at TEXT;
ALTER TABLE sessions ADD COLUMN resumed_from TEXT;
