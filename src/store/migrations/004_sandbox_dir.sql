-- Where a session's sandbox state (workspace, home, sockets) lives on the host: a random folder
-- under a neutral root (see core/sandbox-dir.ts), never derived from the session id or home.
ALTER TABLE sessions ADD COLUMN sandbox_dir TEXT;
