import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../errors.js';
import { git } from '../git.js';
import { identityArgs } from '../worktree.js';
import { checkPatchSeries } from './patch-check.js';

/** What landed on the session branch. */
export interface ImportedResults {
  commits: number;
  files: string[];
  /** Where the raw patch series is kept (for audit and manual recovery). */
  patchFile?: string;
}

/**
 * Brings a sandbox's patch series onto the session branch: it is saved next to the session, checked
 * ({@link checkPatchSeries}) before anything touches the host, then applied with `git am` in the
 * session worktree (hooks off), keeping the agent's commits, authors, deletions, renames and modes.
 * On any failure the worktree is left as it was and the error says how to apply the series by hand.
 */
export async function importResults(opts: {
  worktreePath: string;
  sessionDir: string;
  mbox: Buffer;
  identity: { name: string; email: string };
}): Promise<ImportedResults> {
  if (opts.mbox.length === 0) return { commits: 0, files: [] };
  const patchFile = join(opts.sessionDir, 'results.mbox');
  await writeFile(patchFile, opts.mbox, { mode: 0o600 });
  const summary = checkPatchSeries(opts.mbox.toString('utf8'));
  if (summary.problems.length > 0) {
    const list = summary.problems.map((p) => `${p.path}: ${p.problem}`).join('; ');
    throw new AppError('results', `refused the agent's results: ${list}`, {
      hint: `Nothing was applied. The patch series is kept at ${patchFile} for inspection.`,
      details: { problems: summary.problems, patchFile },
    });
  }
  try {
    await git(opts.worktreePath, [
      ...identityArgs(opts.identity),
      'am',
      '--quiet',
      '--patch-format=mboxrd',
      '--keep',
      '--keep-cr',
      '--empty=keep',
      '--no-3way',
      patchFile,
    ]);
  } catch (e) {
    await git(opts.worktreePath, ['am', '--abort']).catch(() => undefined);
    throw new AppError('results', `could not apply the agent's commits to ${opts.worktreePath}: ${(e as Error).message}`, {
      cause: e,
      hint: `The work is saved in ${patchFile}; apply it by hand with: git -C ${opts.worktreePath} am --patch-format=mboxrd --keep ${patchFile}`,
      details: { patchFile },
    });
  }
  return { commits: summary.commits, files: summary.files, patchFile };
}
