import { access } from 'node:fs/promises';
import { run } from '../exec.js';
import { git, gitRaw, SAFE_GIT_CONFIG, splitZ } from '../git.js';
import { previewTree } from './build.js';
import { branchTip, uncommitted } from './refs.js';

/** Whether removing a branch (and its worktree) would lose work, and why. */
export interface Safety {
  safe: boolean;
  reason: string;
}

/** The other local branches and every remote-tracking branch: where a commit may also live. */
async function otherRefs(repo: string, branch: string): Promise<string[]> {
  const refs = splitZ(await gitRaw(repo, ['for-each-ref', '--format=%(refname)%00', 'refs/heads/', 'refs/remotes/'])).map((r) => r.trim());
  return refs.filter((r) => r !== '' && r !== `refs/heads/${branch}` && !r.endsWith('/HEAD'));
}

/**
 * Would deleting `branch` lose a commit? It is safe when every commit of it is reachable from another
 * branch (local or remote-tracking), or when its work is already in one of `targets` as a squash or
 * rebase: merging it there changes nothing (merge-tree's tree equals the target's), or every commit
 * has a patch-id twin there (`git cherry`). Anything else keeps it.
 */
export async function branchSafety(repo: string, branch: string, targets: readonly string[]): Promise<Safety> {
  const tip = await branchTip(repo, branch);
  if (!tip) return { safe: true, reason: 'the branch is gone' };
  const others = await otherRefs(repo, branch);
  const lone = (await run(['git', ...SAFE_GIT_CONFIG, '-C', repo, 'rev-list', '--stdin', tip], { input: others.map((r) => `^${r}\n`).join('') })).stdout.toString('utf8').split('\n').filter(Boolean);
  if (lone.length === 0) return { safe: true, reason: 'every commit is on another branch' };
  for (const t of new Set(targets)) {
    const targetTip = await branchTip(repo, t);
    if (!targetTip) continue;
    const merged = await previewTree(repo, targetTip, tip);
    if (merged.clean && merged.tree === (await git(repo, ['rev-parse', `${targetTip}^{tree}`]))) return { safe: true, reason: `its changes are already in ${t} (squash or rebase merge: merging it changes nothing)` };
    const cherry = (await git(repo, ['cherry', targetTip, tip])).split('\n').filter(Boolean);
    if (cherry.length > 0 && cherry.every((l) => l.startsWith('-'))) return { safe: true, reason: `every commit has an equal patch in ${t} (git patch-id)` };
  }
  return { safe: false, reason: `${lone.length} commit(s) on no other branch and not merged into ${targets.join(' or ') || 'any branch'}` };
}

/** Uncommitted changes of a worktree that exists; [] when the folder is gone. */
export async function worktreeChanges(path: string): Promise<string[]> {
  const there = await access(path).then(
    () => true,
    () => false,
  );
  return there ? uncommitted(path).catch(() => ['(not readable by git)']) : [];
}
