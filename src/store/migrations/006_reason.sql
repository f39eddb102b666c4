-- Why a session did not complete, as the settle step's typed reason (core/outcome.ts RunReason:
-- agent_failed, timed_out, killed_by_user, results_refused, …): status and --multi read it instead
-- of parsing the error text. NULL while running, when completed, and on rows from before the column.
ALTER TABLE sessions ADD COLUMN reason TEXT;
