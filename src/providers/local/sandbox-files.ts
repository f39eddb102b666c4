import { copyFile, link, mkdir, readdir, readlink, realpath, rm, symlink, unlink } from 'node:fs/promises';
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
  /** Host path of the package agent's folder to mount (a hard-linked mirror in the sandbox folder). */
  agentPackage?: string;
}

/** Where a package agent is mounted inside a local sandbox. */
export function packageMountPoint(opt: string, agentName: string): string {
  return `${opt}/pkg/${agentName}`;
}

/**
 * Mirrors a package folder into `<sandbox folder>/opt/pkg-<name>` with hard links (a copy where a
 * link cannot be made), so that its mount source names no host folder (see {@link neutralPath}).
 * Symlinks are kept as they are: the folder is mounted read-only and they resolve inside the sandbox.
 */
export async function mirrorPackage(src: string, sandboxDir: string, name: string): Promise<string> {
  const dest = join(sandboxDir, 'opt', `pkg-${name}`);
  // Re-created on every create/reconnect: the package may have been updated since.
  await rm(dest, { recursive: true, force: true });
  const walk = async (from: string, to: string): Promise<void> => {
    await mkdir(to, { recursive: true, mode: 0o755 });
    for (const e of await readdir(from, { withFileTypes: true })) {
      const a = join(from, e.name);
      const b = join(to, e.name);
      if (e.isDirectory()) await walk(a, b);
      else if (e.isSymbolicLink()) await symlink(await readlink(a), b);
      else if (e.isFile()) await link(a, b).catch(() => copyFile(a, b));
    }
  };
  await walk(await realpath(src), dest);
  return dest;
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

/** Places init.cjs (a small copy), the agent binary (a hard link, see {@link neutralPath}) or the agent package (a mirror). */
export async function sandboxFiles(sandboxDir: string, agentBinary: string | undefined, agentName = 'claude', agentPackage?: string): Promise<SandboxFiles> {
  const opt = join(sandboxDir, 'opt');
  await mkdir(opt, { recursive: true, mode: 0o700 });
  const init = join(opt, 'init.cjs');
  await unlink(init).catch(() => undefined);
  await copyFile(INIT_SCRIPT, init);
  return {
    init,
    ...(agentBinary ? { agent: await neutralPath(agentBinary, sandboxDir, agentName) } : {}),
    ...(agentPackage ? { agentPackage: await mirrorPackage(agentPackage, sandboxDir, agentName) } : {}),
  };
}

/** The sandbox folder a local provider was given; local providers cannot work without one. */
export function requireSandboxDir(spec: { sandboxDir?: string }, provider: string): string {
  if (!spec.sandboxDir) throw new AppError('internal', `the ${provider} provider needs a sandbox folder (SandboxSpec.sandboxDir)`);
  return spec.sandboxDir;
}
