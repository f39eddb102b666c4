import { homePaths, type Context } from './context.js';
import { openDb } from '../store/db.js';
import { SessionRepository } from '../store/sessions.js';

/**
 * Runs `fn` with the session registry open (one connection per process) and closes it after. A
 * registry that does not exist yet is not created by read-only commands: they see no sessions.
 */
export async function withRegistry<T>(ctx: Context, fn: (sessions: SessionRepository) => Promise<T> | T, opts: { create?: boolean } = {}): Promise<T> {
  const { existsSync } = await import('node:fs');
  const path = homePaths(ctx.home).db;
  if (!opts.create && !existsSync(path)) {
    const { default: Database } = await import('better-sqlite3');
    const mem = new Database(':memory:');
    try {
      const { migrate, loadMigrations } = await import('../store/db.js');
      migrate(mem, loadMigrations());
      return await fn(new SessionRepository(mem, ctx.now));
    } finally {
      mem.close();
    }
  }
  const db = openDb(path);
  try {
    return await fn(new SessionRepository(db, ctx.now));
  } finally {
    db.close();
  }
}
