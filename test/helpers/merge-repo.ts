import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ScenarioStep } from '../fixtures/model-server/server.js';
import { git } from './git-repo.js';

export { registryRows } from './registry.js';

/** A scripted agent turn that runs one shell line and commits everything with `message`. */
export function commitStep(command: string, message: string): ScenarioStep {
  return { toolUses: [{ name: 'Bash', input: { command: `${command} && git add -A && git commit -qm ${JSON.stringify(message)}` } }] };
}

/**
 * Hashes of every file below `root`, .git included (index, HEAD, refs, logs) except its object
 * store: a preview (`git merge-tree --write-tree`) writes objects, never anything that refers to them.
 */
export function fileHashes(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) {
        if (!p.endsWith('/.git/objects')) walk(p);
      }
      else out[p] = `${st.mode}:${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(root);
  return out;
}

/** Everything a "changes nothing" assertion compares: refs, worktrees, index and files of every worktree. */
export function repoSnapshot(repo: string): { refs: string; worktrees: string; files: Record<string, string> } {
  const worktrees = git(repo, 'worktree', 'list', '--porcelain');
  const files: Record<string, string> = {};
  for (const line of worktrees.split('\n')) if (line.startsWith('worktree ')) Object.assign(files, fileHashes(line.slice(9)));
  return { refs: git(repo, 'for-each-ref', '--format=%(refname) %(objectname)'), worktrees, files };
}
