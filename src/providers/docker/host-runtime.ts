import { execFile } from 'node:child_process';
import { lchown, readdir, realpath } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { basename, join } from 'node:path';

/**
 * The host's own node, made runnable inside any container image: the binary, its dynamic loader and
 * the shared libraries `ldd` names, each bind-mounted read-only under one folder, and started through
 * that loader with `--library-path` (no LD_LIBRARY_PATH leaks into the agent's environment). So
 * parallel-cc's helpers (init.cjs, the network bridges; the exec killer) never depend on whether, or
 * which, node the user's image has.
 */
export interface HostRuntime {
  /** `host:container:ro` bind specs. */
  binds: string[];
  /** The argv prefix that runs node inside the container (append the script and its arguments). */
  node: string[];
}

/** Parses `ldd` output into [soname, host path] pairs; the loader is named `ld.so`. Undefined if anything is missing. */
export function parseLdd(out: string): Array<[string, string]> | undefined {
  const libs: Array<[string, string]> = [];
  for (const raw of out.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('linux-vdso') || line.startsWith('linux-gate')) continue;
    if (/not found/.test(line)) return undefined;
    const arrow = /^(\S+) => (\/\S+) \(/.exec(line);
    if (arrow) {
      libs.push([arrow[1] as string, arrow[2] as string]);
      continue;
    }
    const loader = /^(\/\S*ld-linux\S*) \(/.exec(line);
    if (loader) {
      libs.push(['ld.so', loader[1] as string]);
      continue;
    }
    if (/statically linked/.test(line)) continue;
    return undefined;
  }
  return libs.some(([name]) => name === 'ld.so') ? libs : undefined;
}

/**
 * Builds the {@link HostRuntime} for a node binary mounted at `dir` in the container; undefined when
 * `ldd` is unavailable or its output is not understood (then the image's own `node` is used).
 */
export async function hostNodeRuntime(execPath: string, dir: string): Promise<HostRuntime | undefined> {
  const node = await realpath(execPath).catch(() => undefined);
  if (!node) return undefined;
  const out = await new Promise<string | undefined>((resolve) => {
    execFile('ldd', [node], { timeout: 10_000 }, (err, stdout) => resolve(err ? undefined : stdout));
  });
  const libs = out === undefined ? undefined : parseLdd(out);
  if (!libs) return undefined;
  const binds = [`${node}:${dir}/node:ro`];
  for (const [name, path] of libs) {
    const real = await realpath(path).catch(() => undefined);
    if (!real) return undefined;
    binds.push(`${real}:${dir}/${basename(name)}:ro`);
  }
  return { binds, node: [`${dir}/ld.so`, '--library-path', dir, `${dir}/node`] };
}

/** A port on the host's loopback that is free right now (for network `host`). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Hands an uploaded tree to the sandbox user (lchown: a symlink's target is never touched). */
export async function chownTree(dir: string, uid: number): Promise<void> {
  await lchown(dir, uid, uid);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await chownTree(p, uid);
    else await lchown(p, uid, uid);
  }
}
