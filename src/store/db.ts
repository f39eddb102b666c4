import Database from 'better-sqlite3';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../errors.js';

/** An open registry database. */
export type Db = Database.Database;

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** A numbered migration file (NNN_name.sql). */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const migrationFiles = (dir: string): string[] => readdirSync(dir).filter((f) => /^\d{3}_.+\.sql$/.test(f)).sort();

/** Reads the migrations shipped next to this module, in version order. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return migrationFiles(dir).map((f) => ({ version: Number(f.slice(0, 3)), name: f, sql: readFileSync(`${dir}/${f}`, 'utf8') }));
}

/**
 * Opens (creating if needed) the registry at `path`: WAL journal so readers never block the writer,
 * a busy timeout so concurrent CLI processes wait instead of failing with SQLITE_BUSY, and every
 * pending migration applied in one transaction each (tracked with PRAGMA user_version).
 */
export function openDb(path: string, migrations?: Migration[]): Db {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let db: Db;
  try {
    db = new Database(path, { timeout: 10_000 });
  } catch (e) {
    throw new AppError('environment', `cannot open the session registry at ${path}: ${(e as Error).message}`, {
      cause: e,
      hint: 'Check that the folder is writable, or point PARALLEL_CC_HOME somewhere else.',
    });
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  if (migrations) migrate(db, migrations);
  else {
    // Every command opens the registry: an up-to-date one (the usual case) costs one read of its
    // version and a folder listing, not a transaction and a file read per migration.
    const files = migrationFiles(MIGRATIONS_DIR);
    const latest = Number(files.at(-1)?.slice(0, 3) ?? 0);
    if ((db.pragma('user_version', { simple: true }) as number) < latest) migrate(db, loadMigrations());
  }
  return db;
}

/** Applies migrations newer than the database's user_version. */
export function migrate(db: Db, migrations: Migration[]): void {
  // BEGIN IMMEDIATE: two processes opening a fresh database at once must not both migrate.
  const apply = db.transaction((m: Migration) => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (m.version <= current) return;
    db.exec(m.sql);
    db.pragma(`user_version = ${m.version}`);
  });
  for (const m of migrations) apply.immediate(m);
}
