import { copyFile, lstat, mkdir, readlink, rm, symlink, constants as fsc } from 'node:fs/promises';
import { dirname, join, relative, isAbsolute } from 'node:path';
import { git, gitRaw, splitZ } from './git.js';
import { concurrencyLimit } from './limit.js';
import { exclusionMatcher } from './sync/plan.js';
import { worktreeChanges } from './merge/safety.js';

/** Commit message of the commit that carries the user's uncommitted working state. */
export const SNAPSHOT_MESSAGE = 'parallel-cc: working state at start';

/** Inputs of {@link createSessionWorktree}. */
export interface WorktreeRequest {
  repoRoot: string;
  baseCommit: string;
  branch: string;
  path: string;
  /** Carry the user's uncommitted tracked and untracked-not-ignored files along (only for base = HEAD). */
  includeWorkingState: boolean;
  identity: { name: string; email: string };
  /** Absolute folders never carried along (parallel-cc's own home when it lives inside the repo). */
  excludeDirs?: string[];
}

/** What {@link createSessionWorktree} made. */
export interface WorktreeResult {
  path: string;
  branch: string;
  /** The commit holding the working-state snapshot, when there was one. */
  snapshotCommit?: string;
  /** The commit the sandbox starts from (snapshot or base). */
  startCommit: string;
}

/** Copies one file or symlink, keeping its mode; replaces whatever is at the destination. */
export async function copyEntry(src: string, dst: string): Promise<void> {
  const st = await lstat(src);
  await mkdir(dirname(dst), { recursive: true });
  await rm(dst, { force: true, recursive: true });
  if (st.isSymbolicLink()) await symlink(await readlink(src), dst);
  else await copyFile(src, dst, fsc.COPYFILE_FICLONE);
}

/** Identity flags for a git commit made by parallel-cc itself. */
export function identityArgs(id: { name: string; email: string }): string[] {
  return ['-c', `user.name=${id.name}`, '-c', `user.email=${id.email}`];
}

/**
 * Creates the session's worktree on a new branch at the base commit, outside the repo tree. When
 * asked, the user's uncommitted work (minus secrets) is copied in and committed as one snapshot
 * commit, so the sandbox starts from exactly what the user sees and the branch history says so.
 * The host repo's hooks never run (see SAFE_GIT_CONFIG).
 */
export async function createSessionWorktree(req: WorktreeRequest): Promise<WorktreeResult> {
  await mkdir(dirname(req.path), { recursive: true });
  // The working state is read from the user's checkout while the new worktree is checked out: the
  // two touch different files, and on a large repo both take a while.
  const workingState = req.includeWorkingState
    ? Promise.all([
        // One scan of the checkout for both: changes against HEAD (staged or not) and untracked files.
        gitRaw(req.repoRoot, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames']).then((out) => splitZ(out).map((e) => e.slice(3))),
        exclusionMatcher(req.repoRoot, []),
      ])
    : undefined;
  workingState?.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
  await addWorktree(req);
  if (!workingState) return { path: req.path, branch: req.branch, startCommit: req.baseCommit };

  const [changed, excludeReason] = await workingState;
  const inExcludedDir = (p: string): boolean =>
    (req.excludeDirs ?? []).some((d) => {
      const rel = relative(d, join(req.repoRoot, p));
      return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
    });
  // Entries ending in '/' are nested repositories (other worktrees, vendored clones): never carried.
  const paths = [...new Set(changed)].filter((p) => !p.endsWith('/') && excludeReason(p) !== 'secret' && !inExcludedDir(p));
  for (const p of paths) {
    const src = join(req.repoRoot, p);
    const exists = await lstat(src).then(
      (s) => s.isFile() || s.isSymbolicLink(),
      () => false,
    );
    if (exists) await copyEntry(src, join(req.path, p));
    else await rm(join(req.path, p), { force: true });
  }
  const snapshotCommit = await commitSnapshot(req.path, paths, req.identity);
  return snapshotCommit ? { path: req.path, branch: req.branch, snapshotCommit, startCommit: snapshotCommit } : { path: req.path, branch: req.branch, startCommit: req.baseCommit };
}

// `git worktree add` reads every other worktree's admin folder first: one being made at the same
// moment (by another task of a --multi) fails it with "failed to read .git/worktrees/<x>/commondir".
// The adds of one repo run one at a time in this process; across processes that early failure,
// which creates nothing, is retried.
const adding = new Map<string, ReturnType<typeof concurrencyLimit>>();

async function addWorktree(req: WorktreeRequest): Promise<void> {
  let oneAtATime = adding.get(req.repoRoot);
  if (!oneAtATime) adding.set(req.repoRoot, (oneAtATime = concurrencyLimit(1)));
  await oneAtATime(async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        await git(req.repoRoot, ['worktree', 'add', '--quiet', '--no-track', '-b', req.branch, req.path, req.baseCommit], {
          errorKind: 'environment',
          hint: `Check that the branch ${req.branch} does not exist and ${req.path} is free.`,
        });
        return;
      } catch (e) {
        const raced = e instanceof Error && /failed to read [^\n]*worktrees\/[^\n]*: /.test(e.message);
        if (!raced || attempt >= 5 || (await git(req.repoRoot, ['rev-parse', '--verify', '--quiet', `refs/heads/${req.branch}`]).then(() => true, () => false))) throw e;
        await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 30));
      }
    }
  });
}

/**
 * Commits `paths` of a worktree as the working-state snapshot ({@link SNAPSHOT_MESSAGE}); returns
 * the commit, or undefined when they change nothing.
 */
export async function commitSnapshot(path: string, paths: readonly string[], identity: { name: string; email: string }): Promise<string | undefined> {
  if (paths.length === 0) return undefined;
  await git(path, ['add', '-A', '--', ...paths]);
  if ((await git(path, ['diff', '--cached', '--name-only'])) === '') return undefined;
  await git(path, [...identityArgs(identity), 'commit', '--quiet', '--no-verify', '-m', SNAPSHOT_MESSAGE]);
  return git(path, ['rev-parse', 'HEAD']);
}

/**
 * Removes a session worktree (and its branch when it holds no commits beyond `startCommit`). Never
 * one with uncommitted changes (tracked edits or untracked files that are not ignored): that one is
 * kept and false is returned. Ignored files (build output, node_modules) go with it.
 */
export async function removeSessionWorktree(repoRoot: string, path: string, branch?: string, startCommit?: string): Promise<boolean> {
  if ((await worktreeChanges(path)).length > 0) return false;
  await git(repoRoot, ['worktree', 'remove', '--force', path]).catch(async () => {
    await rm(path, { recursive: true, force: true });
    await git(repoRoot, ['worktree', 'prune']).catch(() => undefined);
  });
  if (branch && startCommit) {
    const tip = await git(repoRoot, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]).catch(() => '');
    if (tip === startCommit) await git(repoRoot, ['branch', '-D', branch]).catch(() => undefined);
  }
  return true;
}
