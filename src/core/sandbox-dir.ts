import { lstat, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { AppError } from '../errors.js';

/**
 * Where a session's sandbox state lives on the host: the folders bind-mounted into a local sandbox
 * (workspace, home, the synthetic /etc files, parallel-cc's helpers) and the broker/proxy sockets.
 * A sandbox can read the source path of every mount (/proc/self/mountinfo), so that path must name
 * nothing about the host: not the user's home, not PARALLEL_CC_HOME, not the session id. Each
 * session gets `<root>/pcc-<random>` (mode 0700, the user's own), under a neutral, persistent root
 * — /var/tmp survives a reboot, which crash recovery needs (the agent's work is in the workspace).
 * The registry records the folder (sessions.sandbox_dir), so nothing has to guess it later.
 */
export const SANDBOX_DIR_PREFIX = 'pcc-';

/** The root of all sessions' sandbox folders: PARALLEL_CC_SANDBOX_ROOT, else /var/tmp. */
export function sandboxRoot(env: NodeJS.ProcessEnv): string {
  const explicit = env.PARALLEL_CC_SANDBOX_ROOT?.trim();
  if (!explicit) return '/var/tmp';
  if (!isAbsolute(explicit)) throw new AppError('usage', `PARALLEL_CC_SANDBOX_ROOT=${explicit} is not an absolute path`, { hint: 'Point it at a folder such as /var/tmp, or unset it.' });
  return resolve(explicit);
}

/** Creates a fresh, private sandbox folder for one session and returns its path. */
export async function createSandboxDir(env: NodeJS.ProcessEnv): Promise<string> {
  const root = sandboxRoot(env);
  try {
    if (env.PARALLEL_CC_SANDBOX_ROOT?.trim()) await mkdir(root, { recursive: true, mode: 0o700 });
    // mkdtemp: a random name, created exclusively with mode 0700 — never someone else's folder.
    return await mkdtemp(join(root, SANDBOX_DIR_PREFIX));
  } catch (e) {
    throw new AppError('environment', `cannot create a sandbox folder under ${root}: ${(e as Error).message}`, {
      cause: e,
      hint: 'Make sure it exists and is writable, or choose another root with PARALLEL_CC_SANDBOX_ROOT.',
    });
  }
}

/** Creates `run/` in a sandbox folder, where the broker and egress proxy put their sockets. */
export async function createRunDir(sandboxDir: string): Promise<string> {
  const dir = join(sandboxDir, 'run');
  await mkdir(dir, { mode: 0o700 });
  return dir;
}

/**
 * A session's sandbox folder: the recorded one, or (rows written before it was recorded) the old
 * `<session folder>/sandbox`. Undefined when the session never had one.
 */
export function sandboxDirOf(s: { sandboxDir?: string | null; sessionDir?: string | null }): string | undefined {
  if (s.sandboxDir) return s.sandboxDir;
  return s.sessionDir ? join(s.sessionDir, 'sandbox') : undefined;
}

/**
 * Removes a session's sandbox folder. Only a folder that is one of ours (named `pcc-…`, or the old
 * `…/sandbox`) and a real directory (not a symlink) is removed, whatever the registry says.
 */
export async function removeSandboxDir(dir: string | null | undefined): Promise<boolean> {
  if (!dir) return false;
  const name = basename(dir);
  if (!name.startsWith(SANDBOX_DIR_PREFIX) && name !== 'sandbox') return false;
  const st = await lstat(dir).catch(() => undefined);
  if (!st?.isDirectory()) return false;
  await rm(dir, { recursive: true, force: true });
  return true;
}
