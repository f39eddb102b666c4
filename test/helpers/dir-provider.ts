/**
 * A test-only sandbox provider over a plain folder: commands run on the host in `workdir` with a
 * minimal environment. It has no isolation at all; it exists so that the sandbox-side git scripts
 * and the host-side import can be exercised quickly with real git (the real providers have their
 * own integration tests).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChildExecHandle } from '../../src/providers/child-exec.js';
import type { ExecRequest, SandboxHandle, SandboxProvider } from '../../src/providers/provider.js';

/** A provider whose one "sandbox" is the folder `workdir` (with a home next to it). */
export function dirProvider(workdir: string): { provider: SandboxProvider; handle: SandboxHandle } {
  const homedir = `${workdir}.home`;
  mkdirSync(homedir, { recursive: true });
  const handle: SandboxHandle = { id: 'dir', provider: 'native', workdir, homedir, agentPath: '/bin/false', endpoints: {} };
  const provider: SandboxProvider = {
    name: 'native',
    capabilities: { localFilesystem: true, egressControlled: false, survivesCli: false, resourceLimits: false },
    checkAvailable: () => Promise.resolve(),
    create: () => Promise.resolve(handle),
    upload: () => Promise.reject(new Error('dirProvider: upload is not used')),
    execute: (_box, req: ExecRequest) =>
      new ChildExecHandle(req.argv, {
        env: { PATH: process.env.PATH, HOME: homedir, LANG: 'C', ...req.env },
        cwd: req.cwd ?? workdir,
        ...(req.stdin !== undefined ? { stdin: req.stdin } : {}),
      }),
    download: (_box, path) => Promise.resolve(readFileSync(join(workdir, path))),
    destroy: () => Promise.resolve(),
  };
  return { provider, handle };
}
