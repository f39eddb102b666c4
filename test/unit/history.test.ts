/**
 * `history` over a real registry: finished sandbox sessions only, newest first, filters (repo,
 * status, since), cost = model + sandbox, and the stats (success rate, per-day cost, median).
 * 1,000 sessions answer well under 200 ms in-process (the CLI's own time is `npm run bench`).
 */
import { describe, expect, it } from 'vitest';
import { homePaths } from '../../src/core/context.js';
import { history, historyStats, parseSince } from '../../src/core/ops/history.js';
import { openDb } from '../../src/store/db.js';
import { SessionRepository, type SessionStatus } from '../../src/store/sessions.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/git-repo.js';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const sink = { write: () => true };

function seed(n: number): string {
  const home = tempDir('pcc-history-');
  const db = openDb(homePaths(home).db);
  const sessions = new SessionRepository(db, () => NOW);
  const statuses: SessionStatus[] = ['completed', 'failed', 'completed', 'timed_out', 'completed'];
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const id = `s${String(i).padStart(7, '0')}`;
      const done = new Date(NOW.getTime() - i * 3_600_000);
      sessions.create({ id, repoPath: i % 2 ? '/r/a' : '/r/b', provider: i % 3 ? 'native' : 'e2b', promptExcerpt: `task ${i}`, status: statuses[i % 5] });
      sessions.update(id, { startedAt: new Date(done.getTime() - (60 + i) * 1000).toISOString(), completedAt: done.toISOString(), costUsd: 0.01, sandboxCostUsd: i % 3 ? null : 0.002, exitCode: 0, filesChanged: 2, commits: 1 });
    }
    sessions.create({ id: 'running1', repoPath: '/r/a', provider: 'native', status: 'running' });
  })();
  db.close();
  return home;
}

const ctx = (home: string) => ({ cwd: '/', env: {}, home, now: () => NOW, stdout: sink, stderr: sink, signal: new AbortController().signal });

describe('history', () => {
  it('lists finished sandbox sessions newest first with model + sandbox cost; filters by repo, status and since', async () => {
    const home = seed(10);
    const all = await history({}, ctx(home));
    expect(all.entries.map((e) => e.id)).toEqual(Array.from({ length: 10 }, (_, i) => `s${String(i).padStart(7, '0')}`));
    expect(all.entries[0]).toMatchObject({ status: 'completed', provider: 'e2b', agent: 'claude', costUsd: 0.012, durationMs: 60_000, filesChanged: 2, exitCode: 0, prompt: 'task 0' });
    expect((await history({ repo: '/r/a' }, ctx(home))).entries.every((e) => e.repo === '/r/a')).toBe(true);
    expect((await history({ status: 'failed' }, ctx(home))).entries.map((e) => e.id)).toEqual(['s0000001', 's0000006']);
    expect((await history({ since: '3h' }, ctx(home))).entries).toHaveLength(4);
    await expect(history({ status: 'running' }, ctx(home))).rejects.toThrow(/not a finished status/);
    await expect(history({ since: 'yesterday' }, ctx(home))).rejects.toThrow(/neither a duration nor a date/);
  });

  it('stats: success rate, total and per-day cost, median duration', async () => {
    const { stats } = await history({ stats: true }, ctx(seed(5)));
    expect(stats).toMatchObject({ sessions: 5, completed: 3, successRate: 0.6, totalCostUsd: 0.054, medianDurationMs: 62_000 });
    expect(stats?.costPerDay).toEqual([{ day: '2026-12-01', sessions: 5, costUsd: 0.054 }]);
    expect(historyStats([])).toMatchObject({ sessions: 0, successRate: 0, medianDurationMs: null });
  });

  it('1,000 sessions in well under 200 ms (best of 3; a loaded machine gets up to 1 s)', async () => {
    const home = seed(1000);
    await history({}, ctx(home));
    // The goal is the bench's; here the bound only catches a blow-up (a query per row, a quadratic
    // join) without failing because the CI box is busy with other test files.
    let best = Infinity;
    for (let i = 0; i < 3 && best >= 200; i++) {
      const t = performance.now();
      const out = await history({ stats: true }, ctx(home));
      best = Math.min(best, performance.now() - t);
      expect(out.entries).toHaveLength(1000);
    }
    expect(best).toBeLessThan(1000);
  });

  it('the CLI: a table, --stats, --json; a bad --status is exit 2', async () => {
    const home = seed(3);
    const env = { ...process.env, PARALLEL_CC_HOME: home, NO_COLOR: '1' };
    const table = await runCli(['history'], { env });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID +STATUS +PROVIDER +AGENT +DURATION +COST +TOKENS +FILES +EXIT +PROMPT$/);
    expect(table.stdout).toMatch(/^s0000000 +completed +e2b +claude +1m 00s +\$0\.0120 /m);
    const stats = await runCli(['history', '--stats'], { env });
    expect(stats.stdout).toMatch(/^Sessions +3 \(2 completed, 67% success\)$/m);
    const json = await runCli(['history', '--json', '--status', 'failed'], { env });
    expect((JSON.parse(json.stdout) as { entries: unknown[] }).entries).toHaveLength(1);
    expect((await runCli(['history', '--status', 'bogus'], { env })).code).toBe(2);
  });

  it('parses --since durations and dates', () => {
    expect(parseSince('7d', NOW).toISOString()).toBe('2026-11-24T12:00:00.000Z');
    expect(parseSince('90m', NOW).toISOString()).toBe('2026-12-01T10:30:00.000Z');
    expect(parseSince('2026-11-01', NOW).toISOString()).toBe('2026-11-01T00:00:00.000Z');
  });
});
