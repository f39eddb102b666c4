import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../errors.js';
import { git, splitZ } from '../git.js';
import { applySeries } from './apply-series.js';
import { openQuarantine } from './quarantine.js';

/** What landed on the session branch. */
export interface ImportedResults {
  commits: number;
  files: string[];
  /** Where the raw series is kept (for audit and manual recovery). */
  patchFile?: string;
}

/** The host repository's git dir shared by all its worktrees (where its objects and refs live). */
export function commonGitDir(worktreePath: string): Promise<string> {
  return git(worktreePath, ['rev-parse', '--path-format=absolute', '--git-common-dir']);
}

/** The host repository's object store (shared by all its worktrees). */
export async function objectStore(worktreePath: string): Promise<string> {
  return join(await commonGitDir(worktreePath), 'objects');
}

/**
 * Brings a sandbox's series onto the session branch. The series is saved next to the session, its
 * commits rebuilt by git in a quarantine (a scratch repository: no working tree, objects kept
 * apart; `apply-series.ts`), and every resulting tree is judged — paths, modes, gitlinks, `.git` in any spelling,
 * symlinks resolved through the final tree. Only when every commit passes are the objects moved into
 * the host repository and the worktree fast-forwarded to the result. On refusal or failure nothing is
 * applied, the series stays at `results.series`, and the error says how to inspect it.
 */
export async function importResults(opts: {
  worktreePath: string;
  sessionDir: string;
  mbox: Buffer;
  identity: { name: string; email: string };
}): Promise<ImportedResults> {
  if (opts.mbox.length === 0) return { commits: 0, files: [] };
  const patchFile = join(opts.sessionDir, 'results.series');
  await writeFile(patchFile, opts.mbox, { mode: 0o600 });
  const inspect = `Nothing was applied. The agent's commits are kept at ${patchFile}; inspect them with \`less ${patchFile}\` (its commit objects, their changes as \`git diff-tree --raw -z\` records, then the files' contents).`;
  const start = await git(opts.worktreePath, ['rev-parse', '--verify', 'HEAD^{commit}']);
  const q = await openQuarantine(opts.sessionDir, await objectStore(opts.worktreePath));
  try {
    let applied;
    try {
      applied = await applySeries(q, start, opts.mbox, opts.identity);
    } catch (e) {
      throw new AppError('results', `could not read the agent's commits: ${(e as Error).message}`, { cause: e, hint: inspect, details: { patchFile } });
    }
    if (applied.problems.length > 0) {
      const list = applied.problems.map((p) => `${p.path}: ${p.problem}`).join('; ');
      throw new AppError('results', `refused the agent's results: ${list}${applied.applyError ? `; and ${applied.applyError}` : ''}`, { hint: inspect, details: { problems: applied.problems, patchFile } });
    }
    if (applied.applyError) throw new AppError('results', `refused the agent's results: ${applied.applyError}`, { hint: inspect, details: { patchFile } });
    const files = splitZ(await q.g(['diff', '--name-only', '-z', '--no-renames', start, applied.tip]));
    await q.migrate();
    // The trees were judged; git's checkout writes them without following links on the way.
    await git(opts.worktreePath, ['reset', '--quiet', '--keep', applied.tip]);
    return { commits: applied.commits, files, patchFile };
  } finally {
    await q.remove();
  }
}
