/** The dashboard asks git for the branch stats of many ended sessions a few at a time, not all at once. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DiffStat } from '../../src/core/dashboard/model.js';
import { openDb } from '../../src/store/db.js';
import { SessionRepository } from '../../src/store/sessions.js';
import { tempDir } from '../helpers/git-repo.js';

// branchStat held at a barrier: the test sees how many run at once and lets them finish.
const held = vi.hoisted(() => ({ running: 0, most: 0, calls: 0, waiting: [] as Array<() => void> }));
vi.mock('../../src/core/dashboard/branch.js', async (original) => ({
  ...(await original<typeof import('../../src/core/dashboard/branch.js')>()),
  branchStat: async (): Promise<DiffStat> => {
    held.calls += 1;
    held.running += 1;
    held.most = Math.max(held.most, held.running);
    await new Promise<void>((go) => held.waiting.push(go));
    held.running -= 1;
    return { files: 1, added: 1, removed: 0, paths: ['a'] };
  },
}));
const { LiveDashboard } = await import('../../src/core/dashboard/live.js');

let live: InstanceType<typeof LiveDashboard> | undefined;
afterEach(() => {
  live?.stop();
  live = undefined;
});

describe('branch stats of ended sessions', () => {
  it('12 ended sessions: 4 git diffs at a time, every stat known in the end', async () => {
    const home = tempDir('pcc-dstats-');
    mkdirSync(join(home, 'sessions'), { recursive: true });
    const db = openDb(join(home, 'coordinator.db'));
    const repo = new SessionRepository(db);
    const ids = Array.from({ length: 12 }, (_, i) => `dead${String(i).padStart(4, '0')}`);
    for (const id of ids) {
      repo.create({ id, repoPath: home, provider: 'native', status: 'running', pid: process.pid, startedAt: new Date().toISOString() });
      repo.update(id, { status: 'completed', completedAt: new Date().toISOString(), branch: `parallel-cc/${id}`, baseCommit: 'a'.repeat(40) });
    }
    db.close();
    live = new LiveDashboard({ home, now: () => new Date() }, { tickMs: 3_600_000 });
    live.start();
    const settled = live.settled();
    await expect.poll(() => held.running, { timeout: 10_000, interval: 5 }).toBe(4);
    expect(held.calls).toBe(4);
    // Each one that finishes lets the next one start (held.most says never more than 4 ran at once).
    while (held.calls < 12 || held.waiting.length > 0) {
      held.waiting.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await settled;
    expect(held.most).toBe(4);
    expect([...live.diffStats().keys()].sort()).toEqual(ids);
    expect(live.refresh().rows.every((r) => r.added === 1 && r.filesChanged === 1)).toBe(true);
  });
});
