import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Limits for one native sandbox. */
export interface NativeLimits {
  memoryBytes: number;
  pids: number;
}

/** Counters of limit hits, read after (or during) a run. */
export interface LimitEvents {
  oomKills: number;
  pidsLimitHits: number;
  memoryBytes?: number;
  pidsCurrent?: number;
}

/**
 * Shell snippet that moves itself into the given cgroup.procs files, then execs the sandbox. The
 * process joins the cgroup before bwrap starts, so nothing the agent forks can escape the limits
 * (moving bwrap's pid after spawn would race a fork bomb). Arguments are positional — "$@", never
 * interpolated — so the argv stays an argv.
 */
const JOIN_SCRIPT = 'p=$$; for f do if [ "$f" = -- ]; then break; fi; echo "$p" > "$f" || exit 125; shift; done; shift; exec "$@"';

interface Controller {
  dir: string;
  procs: string;
}

async function selfCgroups(): Promise<Map<string, string>> {
  const text = await readFile('/proc/self/cgroup', 'utf8').catch(() => '');
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (controllers === undefined || path === undefined) continue;
    for (const c of controllers === '' ? ['unified'] : controllers.split(',')) out.set(c, path);
  }
  return out;
}

const readNum = async (file: string, key?: string): Promise<number> => {
  const text = await readFile(file, 'utf8').catch(() => '');
  if (key === undefined) return Number(text.trim()) || 0;
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
};

/**
 * A per-session cgroup enforcing memory and pids limits on everything in a native sandbox. cgroup v1
 * (separate memory/pids hierarchies) and v2 (one unified tree) are both handled; where neither is
 * writable (an unprivileged user without delegation) {@link SessionCgroup.create} returns undefined
 * and the caller reports that limits are not enforced.
 */
export class SessionCgroup {
  private constructor(
    /** The cgroup's name under parallel-cc/. */
    readonly name: string,
    private readonly version: 1 | 2,
    private readonly controllers: Controller[],
    readonly limits: NativeLimits,
  ) {}

  /** Creates the cgroup(s) for a session, or returns undefined with the reason. */
  static async create(name: string, limits: NativeLimits, root = '/sys/fs/cgroup'): Promise<SessionCgroup | { unavailable: string }> {
    const self = await selfCgroups();
    const v1 = async (): Promise<SessionCgroup> => {
      const made: Controller[] = [];
      for (const c of ['memory', 'pids']) {
        const dir = join(root, c, self.get(c) ?? '/', 'parallel-cc', name);
        await mkdir(dir, { recursive: true });
        made.push({ dir, procs: join(dir, 'cgroup.procs') });
      }
      const [mem, pids] = made as [Controller, Controller];
      await writeFile(join(mem.dir, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // No swap beyond the limit where the kernel accounts it; absent without swap accounting.
      await writeFile(join(mem.dir, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes)).catch(() => undefined);
      await writeFile(join(pids.dir, 'pids.max'), String(limits.pids));
      return new SessionCgroup(name, 1, made, limits);
    };
    const v2 = async (): Promise<SessionCgroup> => {
      const base = join(root, self.get('unified') ?? '/');
      const parent = join(base, 'parallel-cc');
      await mkdir(parent, { recursive: true });
      await writeFile(join(parent, 'cgroup.subtree_control'), '+memory +pids');
      const dir = join(parent, name);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'memory.max'), String(limits.memoryBytes));
      await writeFile(join(dir, 'memory.swap.max'), '0').catch(() => undefined);
      await writeFile(join(dir, 'pids.max'), String(limits.pids));
      return new SessionCgroup(name, 2, [{ dir, procs: join(dir, 'cgroup.procs') }], limits);
    };
    const isV2 = await readFile(join(root, 'cgroup.controllers'), 'utf8').then(
      () => true,
      () => false,
    );
    try {
      return isV2 ? await v2() : await v1();
    } catch (e) {
      return { unavailable: `cannot create a cgroup under ${root}: ${(e as Error).message}` };
    }
  }

  /** Opens an existing session cgroup (another process's) read-only, for stats; undefined if absent. */
  static async open(name: string, root = '/sys/fs/cgroup'): Promise<SessionCgroup | undefined> {
    const self = await selfCgroups();
    const isV2 = await readFile(join(root, 'cgroup.controllers'), 'utf8').then(
      () => true,
      () => false,
    );
    const dirs = isV2 ? [join(root, self.get('unified') ?? '/', 'parallel-cc', name)] : ['memory', 'pids'].map((c) => join(root, c, self.get(c) ?? '/', 'parallel-cc', name));
    for (const d of dirs) if (!(await readFile(join(d, 'cgroup.procs'), 'utf8').then(() => true, () => false))) return undefined;
    const memLimit = await readNum(join(dirs[0] as string, isV2 ? 'memory.max' : 'memory.limit_in_bytes'));
    const pidsLimit = await readNum(join(dirs[dirs.length - 1] as string, 'pids.max'));
    return new SessionCgroup(name, isV2 ? 2 : 1, dirs.map((dir) => ({ dir, procs: join(dir, 'cgroup.procs') })), { memoryBytes: memLimit, pids: pidsLimit });
  }

  /** Names of the session cgroups under parallel-cc/ (in the pids or unified hierarchy). */
  static async list(root = '/sys/fs/cgroup'): Promise<string[]> {
    const self = await selfCgroups();
    const isV2 = await readFile(join(root, 'cgroup.controllers'), 'utf8').then(
      () => true,
      () => false,
    );
    const dir = isV2 ? join(root, self.get('unified') ?? '/', 'parallel-cc') : join(root, 'pids', self.get('pids') ?? '/', 'parallel-cc');
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  }

  /** Pids currently in the cgroup. */
  async pids(): Promise<number[]> {
    const text = await readFile((this.controllers[this.controllers.length - 1] as Controller).procs, 'utf8').catch(() => '');
    return text.split('\n').filter(Boolean).map(Number);
  }

  /** Wraps a command so it joins this cgroup before it starts. */
  wrap(argv: readonly string[]): string[] {
    return ['/bin/sh', '-c', JOIN_SCRIPT, 'parallel-cc-cgroup-join', ...this.controllers.map((c) => c.procs), '--', ...argv];
  }

  /** How often the limits were hit so far, and current usage. */
  async events(): Promise<LimitEvents> {
    if (this.version === 1) {
      const [mem, pids] = this.controllers as [Controller, Controller];
      return {
        oomKills: await readNum(join(mem.dir, 'memory.oom_control'), 'oom_kill'),
        pidsLimitHits: await readNum(join(pids.dir, 'pids.events'), 'max'),
        memoryBytes: await readNum(join(mem.dir, 'memory.usage_in_bytes')),
        pidsCurrent: await readNum(join(pids.dir, 'pids.current')),
      };
    }
    const [c] = this.controllers as [Controller];
    return {
      oomKills: await readNum(join(c.dir, 'memory.events'), 'oom_kill'),
      pidsLimitHits: await readNum(join(c.dir, 'pids.events'), 'max'),
      memoryBytes: await readNum(join(c.dir, 'memory.current')),
      pidsCurrent: await readNum(join(c.dir, 'pids.current')),
    };
  }

  /** Kills whatever is left in the cgroup and removes it. */
  async remove(): Promise<void> {
    for (const c of this.controllers) {
      // Killed processes can take a while to leave (uninterruptible I/O under load): up to ~5 s.
      for (let attempt = 0; attempt < 50; attempt++) {
        const pids = (await readFile(c.procs, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        const ok = await rmdir(c.dir).then(
          () => true,
          () => false,
        );
        if (ok) break;
        await new Promise((r) => setTimeout(r, attempt < 10 ? 20 : 100));
      }
    }
  }
}
