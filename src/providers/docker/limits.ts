import { readFile } from 'node:fs/promises';

/** Counters of a container's cgroup that say a limit was hit. */
export interface CgroupCounters {
  /** Forks refused by the pids controller. */
  pidsMax: number;
  /** Processes killed by the OOM killer; undefined where the kernel's counter could not be read. */
  oomKills?: number;
}

/**
 * Where the host keeps one of a container's cgroup files, for the cgroupfs and systemd drivers on
 * cgroup v1 (`<controller>/…/<v1 file>`) and v2 (`…/<v2 file>`). Only readable when the daemon's
 * cgroups are visible to this process (same machine, same cgroup namespace);
 * {@link IN_CONTAINER_SCRIPT} covers the rest.
 */
function hostCgroupPaths(containerId: string, controller: string, v1File: string, v2File: string): string[] {
  const parents = [`docker/${containerId}`, `system.slice/docker-${containerId}.scope`];
  return [...parents.map((p) => `/sys/fs/cgroup/${controller}/${p}/${v1File}`), ...parents.map((p) => `/sys/fs/cgroup/${p}/${v2File}`)];
}

/** Where the host keeps a container's pids.events (v1 and v2 alike). */
export const hostPidsEventsPaths = (containerId: string): string[] => hostCgroupPaths(containerId, 'pids', 'pids.events', 'pids.events');

/**
 * A node script (run with the sandbox's helper node) that prints the container's own cgroup files as
 * JSON — docker mounts the container's cgroup at /sys/fs/cgroup —, v1 and v2 layouts. pids.events and
 * the memory files are kept apart: v2's memory.events has a `max` line of its own.
 */
export const IN_CONTAINER_SCRIPT = `const fs=require('fs');const r=(f)=>{try{return fs.readFileSync(f,'utf8')}catch{return ''}};process.stdout.write(JSON.stringify({pids:r('/sys/fs/cgroup/pids/pids.events')+r('/sys/fs/cgroup/pids.events'),memory:r('/sys/fs/cgroup/memory/memory.oom_control')+r('/sys/fs/cgroup/memory.events')}))`;

/** Parses pids.events (`max N`: forks refused) and the memory files (`oom_kill N`: v1 oom_control, v2 memory.events). */
export function parseCounters(pids: string, memory: string): CgroupCounters {
  const oom = /^oom_kill (\d+)$/m.exec(memory)?.[1];
  return { pidsMax: Number(/^max (\d+)$/m.exec(pids)?.[1] ?? 0), ...(oom !== undefined ? { oomKills: Number(oom) } : {}) };
}

/** Where the host keeps a container's memory counters (v1 memory.oom_control, v2 memory.events). */
export const hostMemoryPaths = (containerId: string): string[] => hostCgroupPaths(containerId, 'memory', 'memory.oom_control', 'memory.events');

const firstReadable = async (paths: string[], read: (p: string) => Promise<string>): Promise<string> => {
  for (const p of paths) {
    const text = await read(p).catch(() => '');
    if (text) return text;
  }
  return '';
};

/**
 * Reads the limit counters of a container: the host's cgroup files when both are readable (the
 * kernel's own numbers, no round trip into the container), else from inside the container through
 * `inside` (which runs {@link IN_CONTAINER_SCRIPT} and returns its stdout). `read` reads a host file.
 */
export async function readCounters(containerId: string, inside: () => Promise<string>, read: (path: string) => Promise<string> = (p) => readFile(p, 'utf8')): Promise<CgroupCounters> {
  const [pids, memory] = await Promise.all([firstReadable(hostPidsEventsPaths(containerId), read), firstReadable(hostMemoryPaths(containerId), read)]);
  const host = parseCounters(pids, memory);
  if (pids && host.oomKills !== undefined) return host;
  const within = await inside()
    .then((out) => JSON.parse(out) as { pids?: unknown; memory?: unknown })
    .catch(() => ({ pids: '', memory: '' }));
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const b = parseCounters(str(within.pids), str(within.memory));
  const oomKills = b.oomKills ?? host.oomKills;
  return { pidsMax: Math.max(host.pidsMax, b.pidsMax), ...(oomKills !== undefined ? { oomKills } : {}) };
}
