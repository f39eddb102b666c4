-- Monitoring alerts a run fired (config alertThresholds): a JSON array of {metric, value, threshold,
-- message}; NULL when none fired.
ALTER TABLE sessions ADD COLUMN alerts TEXT;
