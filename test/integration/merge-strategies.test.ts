import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MergeOutput } from '../../src/core/merge/queue.js';
import { openDb } from '../../src/store/db.js';
import { SessionRepository } from '../../src/store/sessions.js';
import { runCli } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';
import { registryRows } from '../helpers/merge-repo.js';

/** A repo whose main moved on after two session branches started; their rows in a fresh registry. */
function setup(): { repo: string; home: string; env: NodeJS.ProcessEnv; ids: string[] } {
  const repo = makeRepo({ 'README.md': '# strategies\n' });
  const base = git(repo, 'rev-parse', 'HEAD');
  const home = tempDir('pcc-home-');
  const db = openDb(join(home, 'coordinator.db'));
  const sessions = new SessionRepository(db);
  const ids: string[] = [];
  for (const name of ['one', 'two']) {
    const id = randomBytes(4).toString('hex');
    git(repo, 'switch', '-q', '-c', `parallel-cc/${id}`, base);
    for (const n of [1, 2]) {
      writeFileSync(join(repo, `${name}-${n}.txt`), `${name} ${n}\n`);
      git(repo, 'add', '-A');
      git(repo, 'commit', '-qm', `agent: ${name} ${n}`);
    }
    sessions.create({ id, repoPath: repo, provider: 'native', status: 'completed', branch: `parallel-cc/${id}`, baseRef: 'HEAD', baseCommit: base, taskId: `task-${ids.length + 1}` });
    ids.push(id);
  }
  db.close();
  git(repo, 'switch', '-q', 'main');
  writeFileSync(join(repo, 'main.txt'), 'main moved on\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'main: moved on');
  return { repo, home, env: { ...process.env, PARALLEL_CC_HOME: home, NO_COLOR: '1' }, ids };
}

const worktrees = (repo: string): string => git(repo, 'worktree', 'list', '--porcelain');

describe('merge strategies (real git, no sandbox)', () => {
  it('--strategy rebase replays the commits on top (no merge commit), via a temporary worktree that is removed', async () => {
    const { repo, env, ids, home } = setup();
    const wt = worktrees(repo);
    const r = await runCli(['merge', ...ids, '--strategy', 'rebase', '--json'], { env, cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as MergeOutput).steps.map((s) => s.action)).toEqual(['merged', 'merged']);
    expect(git(repo, 'log', '--format=%s', 'main')).toBe(['agent: two 2', 'agent: two 1', 'agent: one 2', 'agent: one 1', 'main: moved on', 'initial'].join('\n'));
    expect(git(repo, 'rev-list', '--merges', 'main')).toBe('');
    expect(worktrees(repo).replace(/HEAD [0-9a-f]+/g, '')).toBe(wt.replace(/HEAD [0-9a-f]+/g, ''));
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(registryRows(home).every((s) => s.mergedInto === 'main')).toBe(true);
  });

  it('--strategy squash makes one commit per session; --into a branch nobody has checked out moves only that ref', async () => {
    const { repo, env, ids } = setup();
    git(repo, 'branch', 'release', 'main');
    const main = git(repo, 'rev-parse', 'main');
    const r = await runCli(['merge', ...ids, '--strategy', 'squash', '--into', 'release', '--json'], { env, cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/checked out/);
    expect(git(repo, 'rev-list', '--count', 'main..release')).toBe('2');
    expect(git(repo, 'rev-list', '--merges', 'release')).toBe('');
    expect(git(repo, 'ls-tree', '--name-only', 'release').split('\n')).toEqual(['README.md', 'main.txt', 'one-1.txt', 'one-2.txt', 'two-1.txt', 'two-2.txt']);
    expect(git(repo, 'rev-parse', 'main')).toBe(main);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('refuses a checked-out target with uncommitted changes, before anything moves', async () => {
    const { repo, env, ids } = setup();
    writeFileSync(join(repo, 'README.md'), 'edited\n');
    const main = git(repo, 'rev-parse', 'main');
    const r = await runCli(['merge', ...ids], { env, cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/main is checked out in .* with uncommitted changes \(README\.md\): refusing to merge into it/);
    expect(git(repo, 'rev-parse', 'main')).toBe(main);
    const bad = await runCli(['merge', ...ids, '--strategy', 'octopus'], { env, cwd: repo });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown --strategy "octopus"/);
  });
});
