import { resolve } from 'node:path';
import { withRegistry } from '../registry.js';
import type { Context } from '../context.js';
import { git, gitRaw, repoRoot, splitZ } from '../git.js';

/** Merge state of every `parallel-cc/*` branch of a repo against a base. */
export interface MergeStatus {
  repo: string;
  base: string;
  branches: Array<{ branch: string; merged: boolean; sessionId: string | null }>;
}

/** Which session branches are merged into the base (default: the checked-out branch). */
export async function mergeStatus(ctx: Context, repoPath: string, baseRef?: string): Promise<MergeStatus> {
  const repo = await repoRoot(resolve(ctx.cwd, repoPath));
  const base = baseRef ?? (await git(repo, ['symbolic-ref', '--short', 'HEAD']).catch(() => 'HEAD'));
  const all = splitZ(await gitRaw(repo, ['for-each-ref', '--format=%(refname:short)%00', 'refs/heads/parallel-cc/'])).map((s) => s.trim()).filter(Boolean);
  const merged = new Set(splitZ(await gitRaw(repo, ['for-each-ref', '--merged', base, '--format=%(refname:short)%00', 'refs/heads/parallel-cc/'])).map((s) => s.trim()));
  const ids = await withRegistry(ctx, (s) => new Map(s.list({ repoPath: repo }).map((x) => [x.branch, x.id])));
  return { repo, base, branches: all.map((branch) => ({ branch, merged: merged.has(branch), sessionId: ids.get(branch) ?? null })) };
}
