import { access } from 'node:fs/promises';
import { isTerminal, type Session, type SessionRepository } from '../../store/sessions.js';
import { git } from '../git.js';
import { removeSessionWorktree } from '../worktree.js';
import { branchTip } from './refs.js';
import { branchSafety, worktreeChanges } from './safety.js';

/** One decision about a session's worktree and branch (the shape of cleanup's actions). */
export interface BranchAction {
  kind: 'branch';
  target: string;
  action: 'removed' | 'would remove' | 'kept';
  reason: string;
}

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  );

/** Where a session's work may have landed: the repo's checked-out branch, its base branch, where `merge` put it. */
async function targetsOf(s: Session): Promise<string[]> {
  const current = await git(s.repoPath, ['symbolic-ref', '--short', 'HEAD']).catch(() => undefined);
  const base = s.baseRef && s.baseRef !== 'HEAD' && (await branchTip(s.repoPath, s.baseRef)) ? s.baseRef : undefined;
  return [...new Set([s.mergedInto, current, base].filter((t): t is string => !!t && t !== s.branch))];
}

/**
 * Cleanup that never loses work: an ended session's branch and worktree go only when nothing would be
 * lost — no uncommitted changes in the worktree, and every commit reachable from another branch or
 * already merged (squash and rebase merges included, core/merge/safety.ts). Everything else is kept
 * with the reason. `dry` only reports.
 */
export async function cleanSessionBranches(sessions: SessionRepository, all: readonly Session[], dry: boolean): Promise<BranchAction[]> {
  const actions: BranchAction[] = [];
  // A branch a session still works on (a resumed child, a --worktree run continuing an ended one's
  // branch) is never its ended parent's to remove.
  const live = new Set(all.filter((s) => s.branch && !isTerminal(s.status)).map((s) => `${s.repoPath}:${s.branch ?? ''}`));
  for (const s of all) {
    if (s.kind !== 'sandbox' || !s.branch || !isTerminal(s.status)) continue;
    if (live.has(`${s.repoPath}:${s.branch}`)) continue;
    if (!(await exists(s.repoPath)) || !(await branchTip(s.repoPath, s.branch))) continue;
    const target = `${s.repoPath}:${s.branch}`;
    const worktree = s.worktreePath && (await exists(s.worktreePath)) ? s.worktreePath : undefined;
    const dirty = worktree ? await worktreeChanges(worktree) : [];
    if (dirty.length > 0) {
      actions.push({ kind: 'branch', target, action: 'kept', reason: `session ${s.id}: its worktree ${worktree ?? ''} has uncommitted changes (${dirty.slice(0, 3).map((l) => l.slice(3)).join(', ')}${dirty.length > 3 ? ', …' : ''})` });
      continue;
    }
    const safety = await branchSafety(s.repoPath, s.branch, await targetsOf(s));
    if (!safety.safe) {
      actions.push({ kind: 'branch', target, action: 'kept', reason: `session ${s.id}: ${safety.reason}` });
      continue;
    }
    const what = `session ${s.id}: ${safety.reason}${worktree ? `; with its worktree ${worktree}` : ''}`;
    if (dry) {
      actions.push({ kind: 'branch', target, action: 'would remove', reason: what });
      continue;
    }
    if (worktree && !(await removeSessionWorktree(s.repoPath, worktree))) {
      actions.push({ kind: 'branch', target, action: 'kept', reason: `session ${s.id}: its worktree changed meanwhile` });
      continue;
    }
    await git(s.repoPath, ['branch', '-D', s.branch]);
    sessions.update(s.id, { branch: null, worktreePath: null });
    actions.push({ kind: 'branch', target, action: 'removed', reason: what });
  }
  return actions;
}
