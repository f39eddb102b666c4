-- Cloud sandboxes bill by time: when the sandbox was created and its estimated cost so far.
ALTER TABLE sessions ADD COLUMN sandbox_created_at TEXT;
ALTER TABLE sessions ADD COLUMN sandbox_cost_usd REAL;
