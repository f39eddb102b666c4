import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMigrations, openDb } from '../../src/store/db.js';
import { SessionRepository } from '../../src/store/sessions.js';
import { tempDir } from '../helpers/git-repo.js';

describe('session registry', () => {
  it('migrates a fresh database, uses WAL, and round-trips sessions', () => {
    const path = join(tempDir(), 'coordinator.db');
    const db = openDb(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(loadMigrations().length);
    let t = Date.parse('2026-01-01T00:00:00Z');
    const repo = new SessionRepository(db, () => new Date((t += 1000)));
    repo.create({ id: 'aaaa', repoPath: '/r', provider: 'native', branch: 'parallel-cc/aaaa' });
    repo.create({ id: 'bbbb', repoPath: '/r2', provider: 'native' });
    const s = repo.update('aaaa', { status: 'completed', costUsd: 0.25, inputTokens: 10, outputTokens: 5 });
    expect(s).toMatchObject({ id: 'aaaa', status: 'completed', costUsd: 0.25, branch: 'parallel-cc/aaaa', kind: 'sandbox' });
    expect(s.updatedAt > s.createdAt).toBe(true);
    expect(repo.list().map((x) => x.id)).toEqual(['bbbb', 'aaaa']);
    expect(repo.list({ repoPath: '/r', statuses: ['completed'] }).map((x) => x.id)).toEqual(['aaaa']);
    db.close();
    // Reopening applies nothing twice.
    const again = openDb(path);
    expect(new SessionRepository(again).get('aaaa')?.status).toBe('completed');
    again.close();
  });
  it('rejects an unknown status at the database level', () => {
    const db = openDb(join(tempDir(), 'c.db'));
    const repo = new SessionRepository(db);
    repo.create({ id: 'x', repoPath: '/r', provider: 'native' });
    expect(() => repo.update('x', { status: 'bogus' as never })).toThrow(/CHECK constraint/);
    db.close();
  });

  it('keeps existing rows when later migrations rebuild the table', () => {
    const path = join(tempDir(), 'coordinator.db');
    const [first] = loadMigrations();
    const v1 = openDb(path, first ? [first] : []);
    new SessionRepository(v1).create({ id: 'old00001', repoPath: '/r', provider: 'native', status: 'completed', costUsd: 0.5 });
    v1.close();
    const db = openDb(path);
    const repo = new SessionRepository(db);
    expect(repo.get('old00001')).toMatchObject({ status: 'completed', costUsd: 0.5, groupId: null });
    repo.update('old00001', { status: 'over_budget', groupId: 'g1', taskId: 't1' });
    expect(repo.list({ statuses: ['over_budget'] }).map((s) => s.id)).toEqual(['old00001']);
    db.close();
  });
});
