import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../exec.js';
import { git, SAFE_GIT_CONFIG } from '../git.js';
import { identityArgs } from '../worktree.js';
import { isAncestor } from './refs.js';

/** How a session's branch is combined with the target. */
export type MergeStrategy = 'merge' | 'squash' | 'rebase';
/** The strategies, for flag validation. */
export const MERGE_STRATEGIES: readonly MergeStrategy[] = ['merge', 'squash', 'rebase'];

/** What {@link previewTree} found: the merged tree, or the conflicted paths. */
export type TreePreview = { clean: true; tree: string } | { clean: false; conflicts: string[] };

/**
 * `git merge-tree --write-tree` of two commits: writes objects only, never a ref, the index or a
 * working tree. Exit 1 means conflicts: the first line is still a tree, then the conflicted paths.
 */
export async function previewTree(repo: string, ours: string, theirs: string): Promise<TreePreview> {
  const r = await run(['git', ...SAFE_GIT_CONFIG, '-C', repo, 'merge-tree', '--write-tree', '--name-only', '--no-messages', ours, theirs], { okCodes: [0, 1] });
  const lines = r.stdout.toString('utf8').split('\n').filter((l) => l.trim() !== '');
  if (r.exitCode === 0) return { clean: true, tree: lines[0] ?? '' };
  return { clean: false, conflicts: [...new Set(lines.slice(1))] };
}

/** What {@link buildMerged} made: the commit that would land, or why there is none. */
export type Built = { clean: true; commit: string; tree: string } | { clean: false; conflicts: string[] };

/** Inputs of {@link buildMerged}. */
export interface BuildRequest {
  repo: string;
  /** The target's current tip. */
  into: string;
  intoName: string;
  /** The session branch's tip and name. */
  tip: string;
  branch: string;
  strategy: MergeStrategy;
  identity: { name: string; email: string };
  /** The message's first line. */
  title: string;
}

const gitVersion = async (): Promise<number[]> => ((await run(['git', 'version'])).stdout.toString().match(/(\d+)\.(\d+)/)?.slice(1) ?? ['0', '0']).map(Number);

/** `git replay` (2.44+) rebases without a working tree. */
async function hasReplay(): Promise<boolean> {
  const [major = 0, minor = 0] = await gitVersion();
  return major > 2 || (major === 2 && minor >= 44);
}

/**
 * Builds the commit that would land a session's branch on the target, without touching any working
 * tree of the user: merge and squash are `commit-tree` on merge-tree's tree; rebase is `git replay`
 * where this git has it, else a rebase in a temporary detached worktree that is removed after.
 */
export async function buildMerged(req: BuildRequest): Promise<Built> {
  const preview = await previewTree(req.repo, req.into, req.tip);
  if (!preview.clean) return preview;
  const commitTree = async (parents: string[], message: string): Promise<string> =>
    git(req.repo, [...identityArgs(req.identity), 'commit-tree', preview.tree, ...parents.flatMap((p) => ['-p', p]), '-m', message]);
  if (req.strategy === 'merge') return { clean: true, tree: preview.tree, commit: await commitTree([req.into, req.tip], `${req.title}\n\nMerge branch '${req.branch}' into ${req.intoName}`) };
  if (req.strategy === 'squash') {
    const subjects = await git(req.repo, ['log', '--reverse', '--format=* %s', `${req.into}..${req.tip}`]);
    return { clean: true, tree: preview.tree, commit: await commitTree([req.into], `${req.title}\n\nSquashed from ${req.branch}:\n${subjects}`) };
  }
  // Rebase: already on top of the target → nothing to rewrite.
  if (await isAncestor(req.repo, req.into, req.tip)) return { clean: true, tree: preview.tree, commit: req.tip };
  return (await hasReplay()) ? replayOnto(req) : rebaseInTempWorktree(req);
}

async function replayOnto(req: BuildRequest): Promise<Built> {
  const r = await run(['git', ...SAFE_GIT_CONFIG, '-C', req.repo, ...identityArgs(req.identity), 'replay', '--onto', req.into, `${req.into}..refs/heads/${req.branch}`], { okCodes: [0, 1] });
  // Only reached after merge-tree found no conflict: a replay that stops anyway has none to name.
  if (r.exitCode !== 0) return { clean: false, conflicts: [] };
  const m = /^update \S+ ([0-9a-f]{40,64}) /m.exec(r.stdout.toString('utf8'));
  if (!m?.[1]) throw new Error(`git replay printed no update: ${r.stdout.toString('utf8')}`);
  return { clean: true, commit: m[1], tree: await git(req.repo, ['rev-parse', `${m[1]}^{tree}`]) };
}

async function rebaseInTempWorktree(req: BuildRequest): Promise<Built> {
  const dir = await mkdtemp(join(tmpdir(), 'pcc-rebase-'));
  const wt = join(dir, 'wt');
  try {
    await git(req.repo, ['worktree', 'add', '--quiet', '--detach', wt, req.tip]);
    const r = await run(['git', ...SAFE_GIT_CONFIG, ...identityArgs(req.identity), '-C', wt, 'rebase', '--quiet', req.into], { okCodes: [0, 1] });
    if (r.exitCode !== 0) {
      const conflicts = (await git(wt, ['diff', '--name-only', '--diff-filter=U']).catch(() => '')).split('\n').filter(Boolean);
      await git(wt, ['rebase', '--abort']).catch(() => undefined);
      return { clean: false, conflicts };
    }
    const commit = await git(wt, ['rev-parse', 'HEAD']);
    return { clean: true, commit, tree: await git(req.repo, ['rev-parse', `${commit}^{tree}`]) };
  } finally {
    await git(req.repo, ['worktree', 'remove', '--force', wt]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    await git(req.repo, ['worktree', 'prune']).catch(() => undefined);
  }
}
