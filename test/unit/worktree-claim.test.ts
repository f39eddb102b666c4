import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { continueWorktree as continueResumed } from '../../src/core/resume.js';
import { continueWorktree, resolveWorktree } from '../../src/core/run-options/worktree.js';
import { openDb, type Db } from '../../src/store/db.js';
import { SessionRepository } from '../../src/store/sessions.js';
import { git, makeRepo, tempDir } from '../helpers/git-repo.js';

const ID = { name: 'T', email: 't@example.com' };
let db: Db | undefined;
afterEach(() => db?.close());

/** A repo with an ended session's worktree on parallel-cc/old, and a registry that knows it. */
function fixture(): { repo: string; wt: string; sessions: SessionRepository } {
  const repo = makeRepo({ 'a.txt': 'a\n' });
  const wt = join(tempDir('pcc-wtc-'), 'wt');
  git(repo, 'worktree', 'add', '-q', '-b', 'parallel-cc/old', wt);
  db = openDb(join(tempDir('pcc-wtc-home-'), 'coordinator.db'));
  const sessions = new SessionRepository(db);
  sessions.create({ id: 'old', repoPath: repo, provider: 'native', branch: 'parallel-cc/old', worktreePath: wt, status: 'completed' });
  return { repo, wt, sessions };
}

describe('--worktree at run time', () => {
  it('lets only the first of two runs registered on the same worktree go on', async () => {
    const { repo, wt, sessions } = fixture();
    // Both CLIs checked the worktree before either registered: both checks pass.
    const checkedA = await resolveWorktree(repo, wt, { cwd: repo, sessions, includeDirty: false });
    const checkedB = await resolveWorktree(repo, wt, { cwd: repo, sessions, includeDirty: false });
    sessions.create({ id: 'aaaa', repoPath: repo, provider: 'native', branch: 'parallel-cc/old' });
    sessions.create({ id: 'bbbb', repoPath: repo, provider: 'native', branch: 'parallel-cc/old' });
    // Whatever order they get here in, the second registered is refused and the first goes on.
    await expect(continueWorktree(checkedB, ID, { sessions, id: 'bbbb', repoPath: repo })).rejects.toThrow(/session aaaa took it first/);
    await expect(continueWorktree(checkedA, ID, { sessions, id: 'aaaa', repoPath: repo })).resolves.toEqual({ startCommit: git(wt, 'rev-parse', 'HEAD') });
    // Once the first has ended, a new run may take it.
    sessions.update('aaaa', { status: 'completed' });
    sessions.update('bbbb', { status: 'failed' });
    sessions.create({ id: 'cccc', repoPath: repo, provider: 'native', branch: 'parallel-cc/old' });
    await expect(continueWorktree(checkedB, ID, { sessions, id: 'cccc', repoPath: repo })).resolves.toBeDefined();
  });

  it('continues from what the worktree holds at run time, not at the check', async () => {
    const { repo, wt, sessions } = fixture();
    const checked = await resolveWorktree(repo, wt, { cwd: repo, sessions, includeDirty: false });
    sessions.create({ id: 'aaaa', repoPath: repo, provider: 'native', branch: 'parallel-cc/old' });
    const claim = { sessions, id: 'aaaa', repoPath: repo };
    // A commit since the check: the run starts from it.
    writeFileSync(join(wt, 'b.txt'), 'b\n');
    git(wt, 'add', 'b.txt');
    git(wt, '-c', 'user.name=T', '-c', 'user.email=t@example.com', 'commit', '-qm', 'since');
    await expect(continueWorktree(checked, ID, claim)).resolves.toEqual({ startCommit: git(wt, 'rev-parse', 'HEAD') });
    // An edit since the check, without --include-dirty: refused, nothing committed.
    writeFileSync(join(wt, 'a.txt'), 'edited\n');
    const head = git(wt, 'rev-parse', 'HEAD');
    await expect(continueWorktree(checked, ID, claim)).rejects.toThrow(/uncommitted changes \(made since it was checked\)/);
    expect(git(wt, 'rev-parse', 'HEAD')).toBe(head);
    // With --include-dirty the edit is carried in as one snapshot commit.
    const dirty = await resolveWorktree(repo, wt, { cwd: repo, sessions: new SessionRepository(db as Db), includeDirty: true }).catch(() => undefined);
    expect(dirty).toBeUndefined(); // session aaaa is live on the branch now
    const started = await continueWorktree({ ...checked, includeDirty: true }, ID, claim);
    expect(started.snapshotCommit).toBeDefined();
    expect(git(wt, 'show', `${started.startCommit}:a.txt`)).toBe('edited');
    // A worktree switched to another branch since the check is refused.
    git(wt, 'checkout', '-q', '-b', 'other');
    await expect(continueWorktree(checked, ID, claim)).rejects.toThrow(/left parallel-cc\/old since it was checked \(now other\)/);
  });

  it('lets only the first of two resumes of one session go on', async () => {
    const { repo, wt, sessions } = fixture();
    const c = { resumedFrom: 'old', branch: 'parallel-cc/old', worktreePath: wt, agentArgs: [], agentFiles: () => [] };
    sessions.create({ id: 'r1', repoPath: repo, provider: 'native', branch: 'parallel-cc/old' });
    sessions.create({ id: 'r2', repoPath: repo, provider: 'native', branch: 'parallel-cc/old' });
    await expect(continueResumed(repo, c, { sessions, id: 'r2', repoPath: repo })).rejects.toThrow(/cannot continue on parallel-cc\/old: session r1 took it first/);
    await expect(continueResumed(repo, c, { sessions, id: 'r1', repoPath: repo })).resolves.toMatchObject({ path: wt, startCommit: git(wt, 'rev-parse', 'HEAD') });
  });
});
