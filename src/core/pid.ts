import { existsSync, readFileSync } from 'node:fs';

/**
 * True when a process id is alive on this machine (signal 0 probes without touching it). A process
 * that was killed but not yet reaped by its parent (a zombie, state Z/X in /proc/<pid>/stat) still
 * answers signal 0 — for as long as its parent does not wait for it — yet runs nothing: it counts
 * as gone, so `cleanup` right after a `kill -9` finishes its sessions.
 */
export function pidAlive(pid: number | null | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

/**
 * {@link pidAlive} asking the kernel once per pid: for one pass over many rows that share owners (a
 * `--multi` batch). Make a new one per pass — an answer is only true for its moment.
 */
export function pidAliveOnce(): (pid: number | null) => boolean {
  const known = new Map<number | null, boolean>();
  return (pid) => {
    let a = known.get(pid);
    if (a === undefined) known.set(pid, (a = pidAlive(pid)));
    return a;
  };
}

/**
 * The fields of /proc/<pid>/stat after "pid (comm) ": [0] state, [1] ppid, … [19] starttime (proc(5)
 * numbers them from 3). comm may contain spaces and parentheses, so they start after the last ')'.
 * Undefined when the file cannot be read (the process is gone, or no /proc).
 */
export function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** True when the process is a zombie or gone (see {@link pidAlive}). */
function isZombie(pid: number): boolean {
  const fields = procStat(pid);
  // Gone meanwhile (where /proc exists); without /proc (not Linux) signal 0 is all we can tell.
  if (!fields) return existsSync('/proc/self/stat');
  return fields[0] === 'Z' || fields[0] === 'X';
}
