import type { Context } from '../context.js';
import { run } from '../exec.js';
import { git, repoRoot } from '../git.js';
import { withRegistry } from '../registry.js';
import { findSession } from './view.js';

/** What {@link previewMerge} found. */
export interface MergePreview {
  branch: string;
  base: string;
  clean: boolean;
  conflicts: string[];
}

/**
 * Would a session's branch merge cleanly into `base` (default: the repo's current branch)? A
 * `git merge-tree` preview: nothing in the repository changes (MCP `check_conflicts`).
 */
export async function previewMerge(ctx: Context, sessionId: string, base?: string): Promise<MergePreview> {
  return withRegistry(ctx, async (s) => {
    const session = findSession(s, sessionId);
    if (!session.branch) throw new Error(`session ${session.id} has no branch`);
    const repo = await repoRoot(session.repoPath);
    const into = base ?? (await git(repo, ['symbolic-ref', '--short', 'HEAD']).catch(() => 'HEAD'));
    // Exit 1 = conflicts: the first line is the merged tree, then the conflicted paths.
    const r = await run(['git', '-C', repo, 'merge-tree', '--write-tree', '--name-only', '--no-messages', into, session.branch], { okCodes: [0, 1] });
    const files = r.stdout.toString('utf8').split('\n').slice(1).filter((l) => l.trim() !== '');
    return { branch: session.branch, base: into, clean: r.exitCode === 0, conflicts: files };
  });
}
