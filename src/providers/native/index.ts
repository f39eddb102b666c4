import { lstat, mkdir, readFile, readlink, realpath, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../errors.js';
import { run } from '../../core/exec.js';
import { ChildExecHandle } from '../child-exec.js';
import { bridgedArgv, bridgeMounts, chained } from '../local/bridges.js';
import { HOMEDIR, OPT, sandboxEnv, WORKDIR } from '../local/layout.js';
import { parseLimits } from '../local/limits.js';
import { neutralPath, packageMountPoint, requireSandboxDir, sandboxFiles } from '../local/sandbox-files.js';
import { copyIntoWorkspace } from '../local/upload.js';
import { execCollect, type ExecHandle, type ExecRequest, type LimitReport, type SandboxStats, type SandboxHandle, type SandboxProvider, type SandboxSpec, type UploadSource } from '../provider.js';
import { keptUnlessFailed } from '../../core/memo.js';
import type { Config } from '../../config/schema.js';
import { bwrapCommand, encodeArgs, ETC_ENTRIES, type Mount } from './bwrap-argv.js';
import { SessionCgroup } from './cgroup.js';

const SANDBOX_UID = 1000;
const SANDBOX_GID = 1000;
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

interface NativeState {
  root: string;
  workspace: string;
  home: string;
  mounts: Mount[];
  /** The node that runs init.cjs, as the sandbox sees it. */
  node: string;
  live: Set<ChildExecHandle>;
  /** Memory/pids limits; undefined where cgroups cannot be created here (see limitsNote). */
  cgroup?: SessionCgroup;
  limitsNote?: string;
}

/** System folders as the host has them (merged-/usr symlinks recreated, real dirs bound read-only). */
async function systemMounts(): Promise<Mount[]> {
  const out: Mount[] = [];
  for (const dir of SYSTEM_DIRS) {
    const st = await lstat(dir).catch(() => undefined);
    if (!st) continue;
    if (st.isSymbolicLink()) out.push({ kind: 'symlink', src: await readlink(dir), dest: dir });
    else if (st.isDirectory()) out.push({ kind: 'ro-bind', src: dir, dest: dir });
  }
  return out;
}

/**
 * `filesystem.denyRead` (config, `--native-config`) as masks: a denied host path the sandbox would
 * see through a read-only mount of the host's own folders (src = dest: /usr, the /etc entries, …)
 * is covered by an empty tmpfs (a folder) or /dev/null (a file). Any other host path (`~/…`, and
 * everything not mounted) is not in the sandbox at all, so there is nothing to mask.
 */
async function readMasks(denyRead: readonly string[], visible: readonly Mount[]): Promise<Mount[]> {
  const masks: Mount[] = [];
  for (const p of denyRead) {
    if (!p.startsWith('/')) continue;
    const seen = visible.some((m) => m.kind !== 'bind' && (m.kind === 'symlink' || m.src === m.dest) && (p === m.dest || p.startsWith(`${m.dest}/`)));
    const st = seen ? await lstat(p).catch(() => undefined) : undefined;
    if (st?.isDirectory()) masks.push({ kind: 'tmpfs', src: '', dest: p });
    else if (st) masks.push({ kind: 'ro-bind', src: '/dev/null', dest: p });
  }
  return masks;
}

/**
 * The node that runs init.cjs: the system's as it is; one installed elsewhere (nvm, volta…, often
 * under the user's home) is linked into the sandbox folder and mounted at a fixed path, so neither
 * its mount source nor the command line names the host folder it came from.
 */
async function nodeMount(root: string): Promise<{ node: string; mounts: Mount[] }> {
  const node = await realpath(process.execPath);
  if (node.startsWith('/usr/') || node.startsWith('/bin/')) return { node, mounts: [] };
  return { node: `${OPT}/node`, mounts: [{ kind: 'ro-bind', src: await neutralPath(node, root, 'node'), dest: `${OPT}/node` }] };
}

/**
 * The native provider: one bubblewrap sandbox per command, sharing a per-session workspace and home
 * folder on the host. We drive bwrap directly instead of @anthropic-ai/sandbox-runtime because srt's
 * configuration is process-global (one config per process, so no per-session allowlists in `--multi`)
 * and its proxy settings exclude loopback, which our credential broker bridge needs.
 */
export class NativeProvider implements SandboxProvider {
  readonly name = 'native' as const;
  readonly capabilities = { localFilesystem: true, egressControlled: true, survivesCli: false, resourceLimits: true, packageAgents: true, workdirChoice: true, chainedExec: true };
  private readonly state = new Map<string, NativeState>();
  private system: Mount[] | undefined;
  private readonly available = new Map<string, Promise<void>>();

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly config: Pick<Config['providers']['native'], 'memoryLimit' | 'pidsLimit'> & { filesystem?: { denyRead: string[] } } = { memoryLimit: '2g', pidsLimit: 512 },
  ) {}

  /**
   * Whether bwrap can make a sandbox here. Asked once per process (every task of a --multi asks):
   * a failure is not remembered, so the next run asks again.
   */
  checkAvailable(): Promise<void> {
    return keptUnlessFailed(this.available, 'bwrap', () => this.probe());
  }

  private async probe(): Promise<void> {
    try {
      await run(['bwrap', '--unshare-all', '--unshare-user', '--uid', String(SANDBOX_UID), '--ro-bind', '/', '/', '--', 'true'], {
        env: this.launchEnv(),
        errorKind: 'environment',
        timeoutMs: 10_000,
      });
    } catch (e) {
      const missing = e instanceof AppError && /could not start bwrap/.test(e.message);
      throw new AppError('environment', missing ? 'bubblewrap (bwrap) is not installed' : 'bubblewrap cannot create a sandbox here', {
        cause: e,
        hint: missing
          ? 'Install it: sudo apt-get install bubblewrap (Debian/Ubuntu) or sudo dnf install bubblewrap. Or use --provider docker.'
          : `User namespaces may be disabled (check sysctl kernel.unprivileged_userns_clone / apparmor_restrict_unprivileged_userns). ${(e as Error).message}`,
      });
    }
  }

  async create(spec: SandboxSpec, cgroupName = `native-${spec.sessionId}`): Promise<SandboxHandle> {
    this.system ??= await systemMounts();
    // Everything mounted comes from the session's sandbox folder (a random name under a neutral
    // root): mount sources are readable in /proc/self/mountinfo and must not name the host's folders.
    const root = requireSandboxDir(spec, 'native');
    const workspace = join(root, 'workspace');
    const home = join(root, 'home');
    const etc = join(root, 'etc');
    await Promise.all([workspace, home, etc].map((d) => mkdir(d, { recursive: true, mode: 0o700 })));
    // A minimal identity for the sandbox user; the host's /etc/passwd, shadow, etc. stay invisible.
    await writeFile(join(etc, 'passwd'), `root:x:0:0:root:/root:/bin/sh\nagent:x:${SANDBOX_UID}:${SANDBOX_GID}:agent:${HOMEDIR}:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`);
    await writeFile(join(etc, 'group'), `root:x:0:\nagent:x:${SANDBOX_GID}:\nnogroup:x:65534:\n`);
    await writeFile(join(etc, 'hosts'), '127.0.0.1 localhost\n::1 localhost\n');
    const agentName = spec.agentName ?? 'claude';
    const workdir = spec.workdir ?? WORKDIR;
    const files = await sandboxFiles(root, spec.agentBinary, agentName, spec.agentPackage?.dir);
    const node = await nodeMount(root);
    const mounts: Mount[] = [
      ...ETC_ENTRIES.map((e): Mount => ({ kind: 'ro-bind-try', src: `/etc/${e}`, dest: `/etc/${e}` })),
      ...['passwd', 'group', 'hosts'].map((f): Mount => ({ kind: 'ro-bind', src: join(etc, f), dest: `/etc/${f}` })),
      ...node.mounts,
      { kind: 'ro-bind', src: files.init, dest: `${OPT}/init.cjs` },
      { kind: 'bind', src: workspace, dest: workdir },
      { kind: 'bind', src: home, dest: HOMEDIR },
    ];
    if (files.agent) mounts.push({ kind: 'ro-bind', src: files.agent, dest: `${OPT}/bin/${agentName}` });
    if (files.agentPackage) mounts.push({ kind: 'ro-bind', src: files.agentPackage, dest: packageMountPoint(OPT, agentName) });
    // Last: a mask must cover what the mounts above made visible.
    mounts.push(...(await readMasks(this.config.filesystem?.denyRead ?? [], [...this.system, ...mounts])));
    const bridges = bridgeMounts(spec.bridges);
    mounts.push(...bridges.mounts.map((m): Mount => ({ kind: 'ro-bind', ...m })));
    const endpoints = bridges.endpoints;
    const id = `native-${spec.sessionId}`;
    const limits = parseLimits(this.config);
    const cgroup = await SessionCgroup.create(cgroupName, limits);
    this.state.set(id, {
      root,
      workspace,
      home,
      mounts,
      node: node.node,
      live: new Set(),
      ...(cgroup instanceof SessionCgroup ? { cgroup } : { limitsNote: `memory/pids limits are not enforced: ${cgroup.unavailable}` }),
    });
    const agentPath = spec.agentPackage ? `${packageMountPoint(OPT, agentName)}/${spec.agentPackage.entry}` : `${OPT}/bin/${agentName}`;
    return { id, provider: 'native', workdir, homedir: HOMEDIR, agentPath, nodeArgv: [node.node], endpoints };
  }

  /**
   * Re-opens a session's sandbox from its folder on disk, e.g. after the CLI that ran it was killed:
   * the workspace (the agent's repo and work so far) is still there, so a fresh bwrap over it lets
   * `reattach`/`cleanup` collect the results — inside the sandbox, never by running git on the
   * agent's repo from the host (its .git/config and hooks are agent-controlled).
   */
  async reconnect(sandboxId: string, session: { sessionId: string; sandboxDir?: string }): Promise<SandboxHandle | undefined> {
    if (sandboxId !== `native-${session.sessionId}` || !session.sandboxDir) return undefined;
    // Anything left of it counts: its folder (maybe half-uploaded) or its cgroup.
    const folder = await lstat(join(session.sandboxDir, 'workspace')).then(
      () => true,
      () => false,
    );
    if (!folder && !(await SessionCgroup.open(sandboxId))) return undefined;
    // Its own cgroup: the session's may still hold a live agent, which destroying this handle must not touch.
    return this.create({ sessionId: session.sessionId, sandboxDir: session.sandboxDir, bridges: {}, labels: {} }, `native-${session.sessionId}-r${process.pid}`);
  }

  /** Native sandboxes that still have a cgroup (their CLI may have died), for `cleanup`. */
  async listSandboxes(): Promise<Array<{ id: string; labels: Record<string, string>; running: boolean }>> {
    const out: Array<{ id: string; labels: Record<string, string>; running: boolean }> = [];
    for (const name of await SessionCgroup.list()) {
      const m = /^native-([0-9a-f]+)$/.exec(name);
      if (!m?.[1]) continue;
      const cg = await SessionCgroup.open(name);
      out.push({ id: name, labels: { 'parallel-cc.session': m[1] }, running: ((await cg?.pids()) ?? []).length > 0 });
    }
    return out;
  }

  /**
   * The environment bwrap itself is started with. Never the CLI's own: bwrap's pid-1 inside the
   * sandbox keeps the environment it was started with (--clearenv only applies to the command), and
   * the agent can read it from /proc/1/environ — so only what finding the binaries needs goes in.
   */
  private launchEnv(): NodeJS.ProcessEnv {
    return { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' };
  }

  private get(sandbox: SandboxHandle): NativeState {
    const s = this.state.get(sandbox.id);
    if (!s) throw new AppError('internal', `native sandbox ${sandbox.id} is not known to this process`);
    return s;
  }

  hostWorkdir(sandbox: SandboxHandle): string | undefined {
    return this.state.get(sandbox.id)?.workspace;
  }

  async upload(sandbox: SandboxHandle, source: UploadSource): Promise<{ files: number; bytes: number }> {
    return copyIntoWorkspace(this.get(sandbox).workspace, source);
  }

  execute(sandbox: SandboxHandle, req: ExecRequest): ExecHandle {
    const s = this.get(sandbox);
    const env = sandboxEnv(req.env);
    const then = chained(req.then, req.cwd ?? sandbox.workdir, sandboxEnv);
    const argv = bridgedArgv([s.node], sandbox.endpoints, req, then);
    const cmd = bwrapCommand({
      system: this.system ?? [],
      mounts: s.mounts,
      uid: SANDBOX_UID,
      gid: SANDBOX_GID,
      hostname: 'parallel-cc',
      cwd: req.cwd ?? sandbox.workdir,
      env,
      argv,
    });
    // The options go through fd 3 (`--args`): bwrap's argv is the sandbox's /proc/1/cmdline.
    const handle = new ChildExecHandle(s.cgroup ? s.cgroup.wrap(cmd.argv) : cmd.argv, { env: this.launchEnv(), cwd: '/', fds: [encodeArgs(cmd.options)], ...(req.stdin !== undefined ? { stdin: req.stdin } : {}) });
    s.live.add(handle);
    void handle.wait().then(() => s.live.delete(handle));
    return handle;
  }

  /** Live numbers of a session's sandbox from its cgroup and /proc (works from any process). */
  async stats(sandbox: SandboxHandle): Promise<SandboxStats> {
    const cg = await SessionCgroup.open(sandbox.id);
    if (!cg) return {};
    const ev = await cg.events();
    const pids = await cg.pids();
    const ticks = async (): Promise<number> => {
      let sum = 0;
      for (const pid of pids) {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        sum += Number(fields[11] ?? 0) + Number(fields[12] ?? 0); // utime + stime
      }
      return sum;
    };
    const t0 = await ticks();
    await new Promise((r) => setTimeout(r, 500));
    const t1 = await ticks();
    // Clock ticks are 1/100 s on Linux: n ticks in 0.5 s = n/50 of a core = n × 2 percent.
    return { ...(ev.memoryBytes !== undefined ? { memoryBytes: ev.memoryBytes } : {}), memoryLimitBytes: cg.limits.memoryBytes, pids: ev.pidsCurrent ?? pids.length, cpuPercent: Math.max(0, (t1 - t0) * 2) };
  }

  /** Limit hits and usage so far (cgroup counters), for reporting OOM / pids exhaustion. */
  async limitEvents(sandbox: SandboxHandle): Promise<LimitReport> {
    const s = this.get(sandbox);
    const ev = s.cgroup ? await s.cgroup.events() : { oomKills: 0, pidsLimitHits: 0 };
    return { oomKills: ev.oomKills, pidsLimitHits: ev.pidsLimitHits, memoryLimit: this.config.memoryLimit, pidsLimit: this.config.pidsLimit, ...(s.limitsNote ? { note: s.limitsNote } : {}) };
  }

  async download(sandbox: SandboxHandle, path: string): Promise<Buffer> {
    // Read through the sandbox, never from the host side: a symlink the agent planted must resolve
    // inside the sandbox, where host secrets do not exist.
    const r = await execCollect(this, sandbox, { argv: ['cat', '--', path] });
    if (r.exitCode !== 0) throw new AppError('not_found', `cannot read ${path} in sandbox ${sandbox.id}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  async destroy(sandbox: SandboxHandle, opts: { keep?: boolean } = {}): Promise<void> {
    const s = this.state.get(sandbox.id);
    if (!s) return;
    await Promise.all([...s.live].map((h) => h.kill()));
    await s.cgroup?.remove();
    this.state.delete(sandbox.id);
    // A reconnected handle has its own cgroup; the session's original one (left by a CLI that died)
    // goes too once the sandbox itself is removed.
    if (!opts.keep && s.cgroup && s.cgroup.name !== sandbox.id) await (await SessionCgroup.open(sandbox.id))?.remove();
    if (!opts.keep) await rm(s.root, { recursive: true, force: true });
  }
}
