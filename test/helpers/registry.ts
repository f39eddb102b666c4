/** Reading a test home's registry (`coordinator.db`) the way the CLI writes it. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../src/store/db.js';
import { SessionRepository, type Session } from '../../src/store/sessions.js';

/** The registry's rows, newest first (empty when there is no registry yet: none is created). */
export function registryRows(home: string): Session[] {
  if (!existsSync(join(home, 'coordinator.db'))) return [];
  const db = openDb(join(home, 'coordinator.db'));
  try {
    return new SessionRepository(db).list();
  } finally {
    db.close();
  }
}
