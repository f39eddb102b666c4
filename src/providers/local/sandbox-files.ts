import { copyFile, link, mkdir, realpath, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../errors.js';

/** parallel-cc's first process inside a local sandbox (bridges, then the command). */
const INIT_SCRIPT = fileURLToPath(new URL('../../sandbox-init/init.cjs', import.meta.url));

/** Host files a local sandbox needs, placed so that no mount source names a host folder. */
export interface SandboxFiles {
  /** Host path of init.cjs to mount (a copy in the sandbox folder). */
  init: string;
  /** Host path of the agent binary to mount, when one is needed. */
  agent?: string;
}

/**
 * Puts a host file into the sandbox folder so its mount source is `<sandbox folder>/opt/<name>`
 * (visible in /proc/self/mountinfo) instead of where it is installed — often under the user's home
 * (~/.local, nvm, a repo's node_modules). A hard link costs nothing; where one cannot be made
 * (another filesystem, or protected_hardlinks on a file the user does not own, i.e. a system-wide
 * install whose path names no user) the file is mounted from where it is.
 */
export async function neutralPath(src: string, sandboxDir: string, name: string): Promise<string> {
  const real = await realpath(src);
  const opt = join(sandboxDir, 'opt');
  await mkdir(opt, { recursive: true, mode: 0o700 });
  const dest = join(opt, name);
  // Re-created on every create/reconnect: the binary may have been updated since.
  await unlink(dest).catch(() => undefined);
  return link(real, dest).then(
    () => dest,
    () => real,
  );
}

/** Places init.cjs (a small copy) and the agent binary (a hard link, see {@link neutralPath}). */
export async function sandboxFiles(sandboxDir: string, agentBinary: string | undefined, agentName = 'claude'): Promise<SandboxFiles> {
  const opt = join(sandboxDir, 'opt');
  await mkdir(opt, { recursive: true, mode: 0o700 });
  const init = join(opt, 'init.cjs');
  await unlink(init).catch(() => undefined);
  await copyFile(INIT_SCRIPT, init);
  return { init, ...(agentBinary ? { agent: await neutralPath(agentBinary, sandboxDir, agentName) } : {}) };
}

/** The sandbox folder a local provider was given; local providers cannot work without one. */
export function requireSandboxDir(spec: { sandboxDir?: string }, provider: string): string {
  if (!spec.sandboxDir) throw new AppError('internal', `the ${provider} provider needs a sandbox folder (SandboxSpec.sandboxDir)`);
  return spec.sandboxDir;
}
