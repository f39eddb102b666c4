import { realpath } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { AppError } from '../../errors.js';
import type { Session, SessionRepository } from '../../store/sessions.js';
import { isTerminal } from '../../store/sessions.js';
import { git, gitRaw, splitZ } from '../git.js';
import { listWorktrees, type WorktreeEntry } from '../merge/refs.js';
import type { ReusedWorktree } from '../run-request.js';
import { exclusionMatcher } from '../sync/plan.js';
import { commitSnapshot } from '../worktree.js';

const real = (p: string): Promise<string> => realpath(p).catch(() => p);

/**
 * Resolves `--worktree <name|path>` for repository `root`: a session id from the registry, a branch
 * name, a worktree folder's name, or a path — always an entry of this repository's `git worktree
 * list` (never the main checkout) whose branch is a session branch (recorded in the registry, or
 * `parallel-cc/…`). Refused: a worktree a live session is using, and one with uncommitted changes
 * unless `includeDirty`. Reads only; creates nothing.
 */
export async function resolveWorktree(root: string, raw: string, opts: { cwd: string; sessions: SessionRepository; includeDirty: boolean }): Promise<ReusedWorktree> {
  const list = await listWorktrees(root);
  const rows = opts.sessions.list({ repoPath: root });
  const byId = rows.find((r) => r.id === raw && r.worktreePath);
  const asPath = await real(resolve(opts.cwd, raw));
  const main = await real(root);
  let entry: WorktreeEntry | undefined;
  for (const e of list) {
    const p = await real(e.path);
    if (p === main) continue;
    if ((byId && p === (await real(byId.worktreePath as string))) || p === asPath || e.branch === raw || basename(p) === raw) {
      entry = e;
      break;
    }
  }
  const shown = raw.replace(/[^\x20-\x7e]/g, '?');
  if (entry?.head === undefined) throw new AppError('usage', `--worktree ${shown} is not a worktree of ${root}`, { hint: 'Give a session id, its branch or its worktree path (see `sandbox status` or `git worktree list`).' });
  const branch = entry.branch;
  const session = (s: Session): boolean => s.branch === branch;
  if (!branch || !(branch.startsWith('parallel-cc/') || rows.some(session))) throw new AppError('usage', `--worktree ${shown} is on ${branch ? `branch ${branch}` : 'a detached HEAD'}, not a session branch`, { hint: 'Only worktrees of parallel-cc sessions can be continued.' });
  const live = rows.find((s) => session(s) && !isTerminal(s.status));
  if (live) throw new AppError('usage', `--worktree ${shown}: session ${live.id} is still ${live.status} on ${branch}`, { hint: 'Wait for it to end, or stop it with `parallel-cc sandbox kill`.' });
  const dirty = (await git(entry.path, ['status', '--porcelain', '--untracked-files=all'])) !== '';
  if (dirty && !opts.includeDirty) throw new AppError('usage', `--worktree ${shown} has uncommitted changes`, { hint: `Commit or stash them in ${entry.path}, or add --include-dirty to carry them into the run as one commit.` });
  return { path: entry.path, branch, head: entry.head, dirty, includeDirty: opts.includeDirty };
}

/** Who may continue a worktree once registered: refused when a live session registered earlier is on its branch. */
export interface BranchClaim {
  sessions: SessionRepository;
  /** This run's session id (its row exists). */
  id: string;
  repoPath: string;
}

/**
 * Refuses the run when another live session registered before it is on `branch`: two runs that
 * continue the same worktree at once both passed the CLI's check, only the first goes on.
 */
export function claimBranch(claim: BranchClaim, branch: string, what: string): void {
  const before = claim.sessions.liveOnBranchBefore(claim.id, claim.repoPath, branch)[0];
  if (before) throw new AppError('usage', `${what}: session ${before.id} took it first (${before.status} on ${branch})`, { hint: 'Wait for it to end, or stop it with `parallel-cc sandbox kill`.' });
}

/**
 * Prepares a reused worktree for a run, checked again now that the session is registered (the
 * CLI's check ran before): no other live session registered before this one is on its branch, and
 * its HEAD and working state are read afresh — a commit or an edit since the check is what the
 * run continues from, and changes that appeared since are refused unless `--include-dirty`. A
 * dirty worktree gets its changes (minus secrets) committed once, as a fresh worktree's
 * working-state snapshot is. Returns where the sandbox starts.
 */
export async function continueWorktree(
  checked: ReusedWorktree,
  identity: { name: string; email: string },
  claim: BranchClaim,
): Promise<{ startCommit: string; snapshotCommit?: string }> {
  const shown = checked.path.replace(/[^\x20-\x7e]/g, '?');
  claimBranch(claim, checked.branch, `--worktree ${shown}`);
  const [branch, head, changes] = await Promise.all([
    git(checked.path, ['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => ''),
    git(checked.path, ['rev-parse', '--verify', 'HEAD^{commit}']),
    // One read of the working state: whether it is dirty, and what the snapshot commits.
    gitRaw(checked.path, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames']).then(splitZ),
  ]);
  if (branch !== checked.branch) throw new AppError('usage', `--worktree ${shown} left ${checked.branch} since it was checked (now ${branch || 'a detached HEAD'})`, { hint: `Check out ${checked.branch} in it again, or pick another worktree.` });
  if (changes.length === 0) return { startCommit: head };
  if (!checked.includeDirty) throw new AppError('usage', `--worktree ${shown} has uncommitted changes (made since it was checked)`, { hint: `Commit or stash them in ${checked.path}, or add --include-dirty to carry them into the run as one commit.` });
  const excluded = await exclusionMatcher(checked.path, []);
  const changed = changes.map((e) => e.slice(3));
  const snapshotCommit = await commitSnapshot(checked.path, changed.filter((p) => !p.endsWith('/') && excluded(p) !== 'secret'), identity);
  return snapshotCommit ? { startCommit: snapshotCommit, snapshotCommit } : { startCommit: head };
}
