/**
 * `git worktree add` reads every other worktree's admin folder: two adds of one repo at the same
 * moment can fail one of them ("failed to read .git/worktrees/<x>/commondir"). A --multi makes its
 * tasks' worktrees at once, so createSessionWorktree must make them all, every time.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSessionWorktree } from '../../src/core/worktree.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

describe('session worktrees made at once', () => {
  it('12 adds of one repo at once, 4 rounds: every one is made, on its own branch', async () => {
    const repo = makeRepo(Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`f/${i}.txt`, `${i}\n`])));
    const out = tempDir('pcc-wt-many-');
    made.push(repo, out);
    const base = git(repo, 'rev-parse', 'HEAD');
    for (let round = 0; round < 4; round++) {
      const ids = Array.from({ length: 12 }, (_, i) => `r${round}t${i}`);
      const results = await Promise.allSettled(ids.map((id) => createSessionWorktree({ repoRoot: repo, baseCommit: base, branch: `parallel-cc/${id}`, path: join(out, id), includeWorkingState: false, identity: { name: 'T', email: 't@example.com' } })));
      expect(results.filter((r) => r.status === 'rejected').map((r) => String(r.reason))).toEqual([]);
    }
    expect(git(repo, 'worktree', 'list').split('\n')).toHaveLength(1 + 48);
    expect(git(repo, 'branch', '--list', 'parallel-cc/*').split('\n')).toHaveLength(48);
  });
});
