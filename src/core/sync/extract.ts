import { constants as fsc } from 'node:fs';
import { lstat, mkdir, open, rm, symlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { AppError } from '../../errors.js';
import { pathProblem, symlinkProblem } from './patch-check.js';

/** One entry of a results archive. */
interface Entry {
  path: string;
  type: 'file' | 'symlink' | 'directory' | 'other';
  linkname?: string;
  mode: number;
}

async function* entries(archive: Buffer): AsyncGenerator<{ entry: Entry; body: Buffer }> {
  const extract = tar.extract();
  Readable.from([archive]).pipe(extract);
  for await (const e of extract) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    const h = e.header;
    const type = h.type === 'file' || h.type === 'contiguous-file' ? 'file' : h.type === 'symlink' ? 'symlink' : h.type === 'directory' ? 'directory' : 'other';
    yield { entry: { path: h.name.replace(/\/$/, ''), type, ...(h.linkname ? { linkname: h.linkname } : {}), mode: h.mode ?? 0o644 }, body: Buffer.concat(chunks) };
  }
}

/** Why an archive entry must not be written (path escape, symlink out, device…), if it must not. */
export function entryProblem(e: Entry): string | undefined {
  const p = pathProblem(e.path);
  if (p) return p;
  if (e.type === 'other') return 'not a regular file or symlink';
  if (e.type === 'symlink') return symlinkProblem(e.path, e.linkname ?? '');
  return undefined;
}

/** Refuses to write through a symlink that already sits inside the output folder. */
async function assertNoLinkOnTheWay(root: string, dest: string): Promise<void> {
  const rel = relative(root, dirname(dest));
  let cur = root;
  for (const part of rel === '' ? [] : rel.split(sep)) {
    cur = join(cur, part);
    const st = await lstat(cur).catch(() => undefined);
    if (st?.isSymbolicLink()) throw new AppError('results', `refusing to write through the symlink ${cur}`);
  }
}

/**
 * Writes a tar archive of results into `outDir`, safely: every entry is checked first (no absolute
 * or `..` paths, nothing in .git, no symlink pointing out, no devices) and nothing is written when
 * any is refused; files are created without following symlinks, so nothing lands outside `outDir`.
 */
export async function extractSafely(archive: Buffer, outDir: string, keep: (path: string) => boolean = () => true): Promise<{ files: string[] }> {
  const refused: string[] = [];
  for await (const { entry } of entries(archive)) {
    if (entry.type === 'directory' || !keep(entry.path)) continue;
    const problem = entryProblem(entry);
    if (problem) refused.push(`${entry.path}: ${problem}`);
  }
  if (refused.length) throw new AppError('results', `refused to download: ${refused.join('; ')}`, { hint: 'Nothing was written. Inspect the branch with git before using these files.' });
  await mkdir(outDir, { recursive: true });
  const files: string[] = [];
  for await (const { entry, body } of entries(archive)) {
    if (entry.type === 'directory' || !keep(entry.path)) continue;
    const dest = join(outDir, entry.path);
    await mkdir(dirname(dest), { recursive: true });
    await assertNoLinkOnTheWay(outDir, dest);
    await rm(dest, { force: true });
    if (entry.type === 'symlink') await symlink(entry.linkname ?? '', dest);
    else {
      const fh = await open(dest, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, entry.mode & 0o111 ? 0o755 : 0o644);
      try {
        await fh.writeFile(body);
      } finally {
        await fh.close();
      }
    }
    files.push(entry.path);
  }
  return { files };
}
