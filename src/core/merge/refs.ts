import { run } from '../exec.js';
import { git, gitRaw, SAFE_GIT_CONFIG, splitZ } from '../git.js';
import { AppError } from '../../errors.js';

/** A branch's tip, or undefined when the branch does not exist. */
export async function branchTip(repo: string, branch: string): Promise<string | undefined> {
  const r = await run(['git', ...SAFE_GIT_CONFIG, '-C', repo, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`], { okCodes: [0, 1] });
  return r.exitCode === 0 ? r.stdout.toString('utf8').trim() : undefined;
}

/** True when `a` is an ancestor of (or equal to) `b`. */
export async function isAncestor(repo: string, a: string, b: string): Promise<boolean> {
  const r = await run(['git', ...SAFE_GIT_CONFIG, '-C', repo, 'merge-base', '--is-ancestor', a, b], { okCodes: [0, 1] });
  return r.exitCode === 0;
}

/** One entry of `git worktree list --porcelain`. */
export interface WorktreeEntry {
  path: string;
  head: string | undefined;
  /** The checked-out branch's short name, when not detached. */
  branch: string | undefined;
}

/** Every worktree of the repository (the main checkout first). */
export async function listWorktrees(repo: string): Promise<WorktreeEntry[]> {
  const out = (await gitRaw(repo, ['worktree', 'list', '--porcelain', '-z'])).toString('utf8');
  const entries: WorktreeEntry[] = [];
  let cur: WorktreeEntry | undefined;
  for (const field of out.split('\0')) {
    if (field.startsWith('worktree ')) entries.push((cur = { path: field.slice(9), head: undefined, branch: undefined }));
    else if (cur && field.startsWith('HEAD ')) cur.head = field.slice(5);
    else if (cur && field.startsWith('branch refs/heads/')) cur.branch = field.slice('branch refs/heads/'.length);
  }
  return entries;
}

/** The worktree where `branch` is checked out, if any. */
export async function checkedOutAt(repo: string, branch: string): Promise<WorktreeEntry | undefined> {
  return (await listWorktrees(repo)).find((w) => w.branch === branch);
}

/** Uncommitted changes of a worktree (tracked and untracked-not-ignored), as `git status --porcelain` lines. */
export async function uncommitted(path: string): Promise<string[]> {
  // --no-optional-locks: looking must not rewrite the user's index (a stat refresh).
  return splitZ(await gitRaw(path, ['--no-optional-locks', 'status', '--porcelain', '-z', '--no-renames', '--untracked-files=normal']));
}

/** The branch checked out in the repo's main checkout (the default target). */
export async function currentBranch(repo: string): Promise<string> {
  try {
    return await git(repo, ['symbolic-ref', '--short', 'HEAD']);
  } catch (e) {
    throw new AppError('usage', `${repo} has no branch checked out (detached HEAD)`, { hint: 'Name the target with --into <branch>.', cause: e });
  }
}
