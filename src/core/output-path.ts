import { constants as fsc } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { AppError } from '../errors.js';

/**
 * Kernel pseudo-filesystems: nothing a user means as an output folder lives there, and Node 20's
 * recursive mkdir below /proc never returns (it spins at 100% CPU and the process cannot be stopped).
 */
const PSEUDO_FS = ['/proc', '/sys', '/dev'];

const under = (path: string, root: string): boolean => path === root || path.startsWith(`${root}${sep}`);

const usage = (flag: string, path: string, why: string, hint?: string): AppError =>
  new AppError('usage', `${flag} ${path}: ${why}`, { hint: hint ?? `Choose a folder you can write to, e.g. ${flag} ./out.` });

/** The deepest existing ancestor of `path` (the path itself if it exists) and whether it is a directory. */
async function firstExisting(flag: string, path: string): Promise<{ at: string; isDir: boolean }> {
  for (let p = path; ; p = dirname(p)) {
    try {
      return { at: p, isDir: (await stat(p)).isDirectory() };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTDIR: a file sits somewhere above; walk up and report it as "not a folder" there.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw usage(flag, path, `cannot be checked (${code ?? (e as Error).message})`);
      if (dirname(p) === p) throw usage(flag, path, 'no part of it exists');
    }
  }
}

async function refusePseudo(flag: string, path: string, existing: string): Promise<void> {
  const real = await realpath(existing).catch(() => existing);
  if (PSEUDO_FS.some((root) => under(real, root) || under(path, root)))
    throw usage(flag, path, `is inside ${PSEUDO_FS.find((root) => under(real, root) || under(path, root)) ?? '/proc'}, a kernel pseudo-filesystem, not a place for files`);
}

async function writable(flag: string, path: string, dir: string): Promise<void> {
  try {
    await access(dir, fsc.W_OK | fsc.X_OK);
  } catch {
    throw usage(flag, path, dir === path ? 'is not writable' : `cannot be created: ${dir} is not writable`);
  }
}

/**
 * Checks, without creating anything, that `path` is (or can be created as) a folder the CLI may
 * write into: its first existing ancestor is a writable directory outside /proc, /sys and /dev.
 * Throws a usage error (exit 2) that names the flag otherwise. This is the guard every recursive
 * mkdir of a user-given folder must pass first.
 */
export async function checkOutputDir(flag: string, raw: string): Promise<string> {
  return (await checkOutputDirAt(flag, raw)).path;
}

/** {@link checkOutputDir}, also saying which ancestor exists (the rest is to be created below it). */
export async function checkOutputDirAt(flag: string, raw: string): Promise<{ path: string; existing: string }> {
  const path = resolve(raw);
  const { at, isDir } = await firstExisting(flag, path);
  await refusePseudo(flag, path, at);
  if (!isDir) throw usage(flag, path, at === path ? 'exists and is not a folder' : `${at} is a file, not a folder`);
  await writable(flag, path, at);
  return { path, existing: at };
}

/**
 * Checks, without creating anything, that the file `raw` can be written: an existing non-folder
 * that is writable, or a new file in an existing writable folder (outside /proc and /sys).
 */
export async function checkOutputFile(flag: string, raw: string): Promise<string> {
  const path = resolve(raw);
  const st = await stat(path).catch(() => undefined);
  const real = st ? await realpath(path).catch(() => path) : path;
  if (['/proc', '/sys'].some((root) => under(real, root) || under(path, root))) throw usage(flag, path, 'is inside a kernel pseudo-filesystem', `Choose a file you can write, e.g. ${flag} ./out.log.`);
  if (st?.isDirectory()) throw usage(flag, path, 'is a folder, not a file', `Name a file, e.g. ${flag} ${join(raw, 'out.log')}.`);
  if (st) {
    await access(path, fsc.W_OK).catch(() => {
      throw usage(flag, path, 'is not writable', `Choose a file you can write, e.g. ${flag} ./out.log.`);
    });
    return path;
  }
  const parent = dirname(path);
  const pst = await stat(parent).catch(() => undefined);
  if (!pst) throw usage(flag, path, `its folder ${parent} does not exist`, `Create the folder first (mkdir -p ${parent}) or choose another file.`);
  if (!pst.isDirectory()) throw usage(flag, path, `${parent} is not a folder`, `Choose a file you can write, e.g. ${flag} ./out.log.`);
  await writable(flag, path, parent);
  return path;
}
