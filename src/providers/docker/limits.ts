import { readFile } from 'node:fs/promises';

/** Counters of a container's cgroup that say a limit was hit. */
export interface CgroupCounters {
  /** Forks refused by the pids controller. */
  pidsMax: number;
  /** Processes killed by the OOM killer; undefined where the kernel's counter could not be read. */
  oomKills?: number;
}

/**
 * Where the host keeps a container's pids.events, for the cgroupfs and systemd drivers on cgroup v1
 * and v2. Only readable when the daemon's cgroups are visible to this process (same machine, same
 * cgroup namespace); {@link IN_CONTAINER_SCRIPT} covers the rest.
 */
export function hostPidsEventsPaths(containerId: string): string[] {
  return [
    `/sys/fs/cgroup/pids/docker/${containerId}/pids.events`,
    `/sys/fs/cgroup/pids/system.slice/docker-${containerId}.scope/pids.events`,
    `/sys/fs/cgroup/docker/${containerId}/pids.events`,
    `/sys/fs/cgroup/system.slice/docker-${containerId}.scope/pids.events`,
  ];
}

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

/**
 * Reads the limit counters of a container: the host's cgroup files first, then from inside the
 * container through `inside` (which runs {@link IN_CONTAINER_SCRIPT} and returns its stdout).
 */
export async function readCounters(containerId: string, inside: () => Promise<string>): Promise<CgroupCounters> {
  let host = '';
  for (const p of hostPidsEventsPaths(containerId)) {
    host = await readFile(p, 'utf8').catch(() => '');
    if (host) break;
  }
  const within = await inside()
    .then((out) => JSON.parse(out) as { pids?: unknown; memory?: unknown })
    .catch(() => ({ pids: '', memory: '' }));
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const a = parseCounters(host, '');
  const b = parseCounters(str(within.pids), str(within.memory));
  return { pidsMax: Math.max(a.pidsMax, b.pidsMax), ...(b.oomKills !== undefined ? { oomKills: b.oomKills } : {}) };
}
