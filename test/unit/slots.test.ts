/**
 * Rate limits over a real registry: maxConcurrentSandboxes counts live holders only (a dead CLI's
 * row holds nothing), sandboxesPerMinute counts slots of the last 60 s, the claim is one immediate
 * transaction, and a waiting run says why once and goes on when a slot frees up.
 */
import { describe, expect, it } from 'vitest';
import { homePaths } from '../../src/core/context.js';
import type { StreamEvent } from '../../src/core/events.js';
import { waitForSlot } from '../../src/core/slots.js';
import { openDb } from '../../src/store/db.js';
import { SessionRepository } from '../../src/store/sessions.js';
import { tempDir } from '../helpers/git-repo.js';

function repo(now: { t: number }) {
  const db = openDb(homePaths(tempDir('pcc-slots-')).db);
  const sessions = new SessionRepository(db, () => new Date(now.t));
  for (const id of ['a', 'b', 'c', 'd']) sessions.create({ id, repoPath: '/r', provider: 'docker', status: 'initializing', pid: process.pid });
  return { db, sessions };
}

describe('sandbox slots', () => {
  it('maxConcurrentSandboxes: live holders only; an ended or dead holder frees its slot', () => {
    const now = { t: Date.parse('2026-12-01T12:00:00Z') };
    const { db, sessions } = repo(now);
    const alive = (pid: number | null): boolean => pid === process.pid;
    expect(sessions.claimSlot('a', 'docker', { maxConcurrent: 2 }, alive)).toBeUndefined();
    expect(sessions.claimSlot('b', 'docker', { maxConcurrent: 2 }, alive)).toBeUndefined();
    expect(sessions.claimSlot('c', 'docker', { maxConcurrent: 2 }, alive)).toBe('2 of 2 docker sandboxes in use (limits.docker.maxConcurrentSandboxes)');
    // Another provider's slots do not count.
    sessions.create({ id: 'n', repoPath: '/r', provider: 'native', status: 'initializing', pid: process.pid });
    expect(sessions.claimSlot('n', 'native', { maxConcurrent: 2 }, alive)).toBeUndefined();
    sessions.update('a', { status: 'completed' });
    sessions.update('b', { pid: 999_999_999 });
    expect(sessions.claimSlot('d', 'docker', { maxConcurrent: 1 }, alive)).toBeUndefined();
    db.close();
  });

  it('sandboxesPerMinute: slots of the last 60 s, ended sessions included', () => {
    const now = { t: Date.parse('2026-12-01T12:00:00Z') };
    const { db, sessions } = repo(now);
    const alive = (): boolean => true;
    expect(sessions.claimSlot('a', 'docker', { perMinute: 2 }, alive)).toBeUndefined();
    sessions.update('a', { status: 'completed' });
    expect(sessions.claimSlot('b', 'docker', { perMinute: 2 }, alive)).toBeUndefined();
    expect(sessions.claimSlot('c', 'docker', { perMinute: 2 }, alive)).toBe('2 docker sandboxes started in the last minute (limits.docker.sandboxesPerMinute is 2)');
    now.t += 61_000;
    expect(sessions.claimSlot('c', 'docker', { perMinute: 2 }, alive)).toBeUndefined();
    db.close();
  });

  it('a waiting run says why once, then takes the slot when it frees; no limits: no wait at all', async () => {
    const now = { t: Date.now() };
    const { db, sessions } = repo(now);
    sessions.claimSlot('a', 'docker', { maxConcurrent: 1 }, () => true);
    const events: StreamEvent[] = [];
    const signal = new AbortController().signal;
    setTimeout(() => sessions.update('a', { status: 'completed' }), 300);
    await waitForSlot(sessions, 'b', 'docker', { maxConcurrentSandboxes: 1 }, { signal, emit: (e) => events.push(e), pollMs: 50 });
    expect(events.map((e) => (e.type === 'phase' ? e.message : e.type))).toEqual(['waiting for a sandbox slot: 1 of 1 docker sandboxes in use (limits.docker.maxConcurrentSandboxes)', 'got a sandbox slot']);
    expect(sessions.require('b').slotAt).not.toBeNull();
    await waitForSlot(sessions, 'c', 'docker', undefined, { signal, emit: (e) => events.push(e) });
    expect(sessions.require('c').slotAt).toBeNull();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await expect(waitForSlot(sessions, 'd', 'docker', { maxConcurrentSandboxes: 1 }, { signal: ac.signal, emit: () => undefined, pollMs: 20 })).rejects.toThrow(/interrupted while waiting/);
    db.close();
  });
});
