import { EXIT_CODES } from '../errors.js';
import { openDb } from '../store/db.js';
import { SessionRepository } from '../store/sessions.js';

/**
 * Records a session as failed by a crash (exit 70). The run may have ended meanwhile and closed its
 * registry connection, so a closed one is replaced by a fresh connection to `dbPath`.
 */
export function recordCrash(sessions: SessionRepository, dbPath: string, id: string, reason: string, now: () => Date): void {
  const patch = { status: 'failed' as const, error: reason, completedAt: now().toISOString(), exitCode: EXIT_CODES.internal };
  try {
    sessions.update(id, patch);
  } catch {
    const db = openDb(dbPath);
    try {
      new SessionRepository(db, now).update(id, patch);
    } finally {
      db.close();
    }
  }
}
