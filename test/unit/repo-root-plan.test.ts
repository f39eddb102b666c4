import { realpathSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/core/git.js';
import { ignoredSecrets, planUpload } from '../../src/core/sync/plan.js';
import { git, makeRepo, tempDir, writeFiles } from '../helpers/git-repo.js';

describe('repoRoot', () => {
  it('answers the same path once per command, and never keeps a failure', async () => {
    const dir = tempDir('pcc-root-');
    await expect(repoRoot(dir)).rejects.toThrow(/not inside a git repository/);
    // The user fixes it (`git init`) and the same process asks again: the failure was not kept.
    git(dir, 'init', '-q');
    const root = await repoRoot(dir);
    expect(realpathSync(root)).toBe(realpathSync(dir));
    expect(repoRoot(dir)).toBe(repoRoot(dir)); // one lookup for the CLI and the run
  });
});

describe('planUpload', () => {
  it('plans what is on disk: a deleted tracked file is gone, a link is a link, sizes are right', async () => {
    const repo = makeRepo({ 'a.txt': 'aaa\n', 'gone.txt': 'x\n' });
    rmSync(join(repo, 'gone.txt'));
    symlinkSync('a.txt', join(repo, 'link'));
    const plan = await planUpload(repo);
    expect(plan.files).toEqual([
      { path: 'a.txt', size: 4, kind: 'file' },
      { path: 'link', size: 0, kind: 'symlink' },
    ]);
    expect(plan.totalBytes).toBe(4);
  });
});

describe('ignoredSecrets', () => {
  it("lists exactly the checkout's ignored secrets that its own full plan lists beyond a worktree's", async () => {
    const repo = makeRepo({ '.gitignore': '.env\nbuild/\n', 'src/a.ts': 'x\n', 'id_rsa.pub.txt': 'tracked\n' });
    writeFiles(repo, { '.env': 'KEY=1\n', 'build/out.js': 'x\n', 'notes.pem': 'untracked secret\n', 'new.ts': 'untracked\n' });
    const full = await planUpload(repo);
    const secrets = await ignoredSecrets(repo);
    expect(secrets).toEqual([{ path: '.env', reason: 'secret' }]);
    // Every exclusion of the full plan that is not an ignored untracked file stays in the worktree,
    // so the worktree's plan reports it; the ignored secret is the one only the checkout has.
    expect(full.excluded).toEqual(expect.arrayContaining(secrets));
    expect(full.excluded.map((x) => x.path).sort()).toEqual(['.env', 'id_rsa.pub.txt', 'notes.pem']);
  });
});
