import { constants as fsc } from 'node:fs';
import { lstat, mkdir, open, symlink, unlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { AppError } from '../../errors.js';
import { checkOutputDirAt } from '../output-path.js';

/** One thing to write below an output folder. */
export type OutputEntry = { path: string; kind: 'file'; executable: boolean; data: Buffer } | { path: string; kind: 'symlink'; target: string };

async function lstatOrNull(p: string): Promise<import('node:fs').Stats | null> {
  return lstat(p).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
}

/**
 * Creates the folders of `rel` below `root` one component at a time, refusing any symlink or
 * non-folder on the way: nothing below `root` is ever reached through a link, whoever planted it.
 */
async function ensureDirs(root: string, rel: string[]): Promise<void> {
  let cur = root;
  for (const part of rel) {
    cur = join(cur, part);
    let st = await lstatOrNull(cur);
    if (!st) {
      await mkdir(cur, { mode: 0o755 }).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
      st = await lstat(cur);
    }
    if (st.isSymbolicLink()) throw new AppError('results', `refusing to write through the symlink ${cur}`, { hint: 'Remove it, or download into an empty folder.' });
    if (!st.isDirectory()) throw new AppError('results', `refusing to replace ${cur}: it is not a folder`, { hint: 'Download into an empty folder.' });
  }
}

/**
 * Writes entries below `root` (an existing folder) with no-follow, exclusive semantics: folders are
 * made component by component (a symlink on the way is refused), an existing file or link at the
 * destination is unlinked (never followed) and the new one created with O_EXCL|O_NOFOLLOW. Entry
 * paths must already be judged (`tree-check.ts`); `..` and absolute paths are refused here again.
 */
export async function writeEntries(root: string, entries: readonly OutputEntry[]): Promise<void> {
  for (const e of entries) {
    const parts = e.path.split('/');
    if (parts.some((p) => p === '' || p === '.' || p === '..')) throw new AppError('results', `refusing to write ${JSON.stringify(e.path)}: not a plain relative path`);
    await ensureDirs(root, parts.slice(0, -1));
    const dest = join(root, ...parts);
    const st = await lstatOrNull(dest);
    if (st?.isDirectory()) throw new AppError('results', `refusing to replace the folder ${dest} with a file`, { hint: 'Download into an empty folder.' });
    if (st) await unlink(dest);
    if (e.kind === 'symlink') {
      await symlink(Buffer.from(e.target, 'latin1'), dest);
      continue;
    }
    const fh = await open(dest, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, e.executable ? 0o755 : 0o644);
    try {
      await fh.writeFile(e.data);
    } finally {
      await fh.close();
    }
  }
}

/**
 * Makes sure an output folder exists: it passes the output-folder guard (`core/output-path.ts`: a
 * writable folder as the nearest existing ancestor, nothing below /proc, /sys or /dev; links in the
 * user's own path are followed, it is their path), then the missing rest is created one component
 * at a time (no recursive mkdir on a user path).
 */
export async function prepareOutputDir(dir: string): Promise<void> {
  const { path, existing } = await checkOutputDirAt('output folder', dir);
  const missing = relative(existing, path).split(sep).filter((c) => c !== '');
  try {
    await ensureDirs(existing, missing);
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError('usage', `cannot create the output folder ${path}: ${(e as Error).message}`, { cause: e, hint: 'Choose a folder you can write to.' });
  }
}
