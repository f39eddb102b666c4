import { lstat, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { SandboxProvider } from '../providers/provider.js';
import type { Context } from './context.js';
import { pidAlive, procStat } from './pid.js';
import { removeSandboxDir, sandboxRoot, SANDBOX_DIR_PREFIX } from './sandbox-dir.js';

/**
 * `sandbox exec` has no registry row, so a CLI killed with SIGKILL would leave its sandbox folder
 * (and a container whose command still runs) where no session points at them. Each exec marks its
 * folder with its owner (pid and that process's start time, so a reused pid does not count) and the
 * label its sandbox carries; `cleanup` removes what a dead owner left.
 */
const MARKER = 'exec-owner.json';
/** The label an exec's sandbox carries: its throwaway session id. */
export const EXEC_LABEL = 'parallel-cc.exec';

interface Marker {
  pid: number;
  started: string;
  provider: string;
  sessionId: string;
}

/** A process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or '' where unknown. */
const processStart = (pid: number): string => procStat(pid)?.[19] ?? '';

/** Marks an exec's sandbox folder as this process's, before its sandbox exists. */
export async function markExecSandbox(sandboxDir: string, provider: string, sessionId: string): Promise<void> {
  const marker: Marker = { pid: process.pid, started: processStart(process.pid), provider, sessionId };
  await writeFile(join(sandboxDir, MARKER), JSON.stringify(marker), { flag: 'wx', mode: 0o600 });
}

const ownerAlive = (m: Marker): boolean => pidAlive(m.pid) && processStart(m.pid) === m.started;

/** What cleanup did with one exec's leftovers. */
export interface ExecLeftover {
  dir: string;
  pid: number;
  sandboxes: string[];
}

/**
 * Removes the sandboxes and folders of `sandbox exec` runs whose CLI died (or, with `dryRun`, lists
 * them). Only folders of ours under the sandbox root with a readable marker are considered; a folder
 * whose owner still runs is left alone.
 */
export async function removeExecLeftovers(ctx: Context, dryRun: boolean): Promise<ExecLeftover[]> {
  const root = sandboxRoot(ctx.env);
  const found: ExecLeftover[] = [];
  const providers = new Map<string, Promise<SandboxProvider | undefined>>();
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (!name.startsWith(SANDBOX_DIR_PREFIX)) continue;
    const dir = join(root, name);
    if (!(await lstat(dir).then((s) => s.isDirectory(), () => false))) continue;
    const marker = await readFile(join(dir, MARKER), 'utf8')
      .then((t) => JSON.parse(t) as Marker)
      .catch(() => undefined);
    if (!marker || typeof marker.pid !== 'number' || ownerAlive(marker)) continue;
    const leftover: ExecLeftover = { dir, pid: marker.pid, sandboxes: [] };
    found.push(leftover);
    if (dryRun) continue;
    if (!providers.has(marker.provider)) providers.set(marker.provider, providerNamed(marker.provider, ctx));
    const provider = await providers.get(marker.provider);
    const boxes = (await provider?.listSandboxes?.().catch(() => [])) ?? [];
    for (const box of boxes.filter((b) => b.labels[EXEC_LABEL] === marker.sessionId)) {
      await provider?.destroy({ id: box.id, provider: provider.name, workdir: '', homedir: '', agentPath: '', endpoints: {} }).catch(() => undefined);
      leftover.sandboxes.push(box.id);
    }
    await removeSandboxDir(dir);
  }
  return found;
}

async function providerNamed(name: string, ctx: Context): Promise<SandboxProvider | undefined> {
  const { createProvider, providerNames } = await import('../providers/registry.js');
  if (!providerNames().includes(name)) return undefined;
  const { config } = loadConfig({ home: ctx.home, env: ctx.env });
  return createProvider(name, ctx.env, config).catch(() => undefined);
}
