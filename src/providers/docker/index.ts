import type Docker from 'dockerode';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config/schema.js';
import { AppError } from '../../errors.js';
import { bridgedArgv } from '../local/bridges.js';
import { HOMEDIR, OPT, sandboxEnv, WORKDIR } from '../local/layout.js';
import { copyIntoWorkspace } from '../local/upload.js';
import {
  execCollect,
  keptUnlessFailed,
  type ExecHandle,
  type ExecRequest,
  type LimitReport,
  type SandboxHandle,
  type SandboxProvider,
  type SandboxSpec,
  type SandboxStats,
  type UploadSource,
} from '../provider.js';
import { whyStopped } from './diagnose.js';
import { DockerExecHandle } from './exec.js';
import { AGENT_UID, containerError, containerName, containerUser, HOST_LIB, PIDS_LIMIT, planContainer } from './container-spec.js';
import { chownTree, hostNodeRuntime, type HostRuntime } from './host-runtime.js';
import { Engine, engineSocket } from './engine.js';
import { runOneShot } from './one-shot.js';
import { IN_CONTAINER_SCRIPT, readCounters } from './limits.js';

type DockerConfig = Config['providers']['docker'];

// Kills every process of one exec: each carries PCC_EXEC_ID=<id> in its environment, children too.
const KILL_SCRIPT = `const fs=require('fs');const m='PCC_EXEC_ID='+process.argv[1];for(const p of fs.readdirSync('/proc')){if(!/^\\d+$/.test(p)||+p===process.pid)continue;try{if(fs.readFileSync('/proc/'+p+'/environ','latin1').split('\\0').includes(m))process.kill(+p,9)}catch{}}`;

/** The host folder of a container's workspace: the bind onto its working folder (`--working-dir`, else /workspace). */
const workspaceOf = (info: Docker.ContainerInspectInfo | undefined): string | undefined => {
  const suffix = `:${info?.Config.WorkingDir || WORKDIR}`;
  return info?.HostConfig.Binds?.find((b) => b.endsWith(suffix))?.slice(0, -suffix.length);
};
const requireCjs = createRequire(import.meta.url);

/** checkAvailable's answers of this process, by daemon and image. */
const AVAILABLE = new Map<string, Promise<void>>();
const IMAGE_HINT = 'The image needs a glibc userland with sleep, sh/bash and git (see docker/Dockerfile); check `docker info` and the limits in PARALLEL_CC_DOCKER_*.';

/**
 * The docker provider: one hardened container per session (no capabilities, no-new-privileges, a
 * non-root user, read-only root filesystem, pids/memory/CPU limits, network `none` by default), the
 * workspace and home bind-mounted from the session folder on the host (as for native, so the work
 * survives a dead CLI), and every command a `docker exec`. With network `none` the agent reaches the
 * model API and allowlisted hosts only through the same host-side broker and proxy as native,
 * over unix sockets mounted into the container.
 */
export class DockerProvider implements SandboxProvider {
  readonly name = 'docker' as const;
  readonly capabilities: SandboxProvider['capabilities'];
  /** `sandbox exec`'s one command as the container's own process (one-shot.ts), where the daemon is a local socket. */
  readonly runOnce?: SandboxProvider['runOnce'];
  private client: Docker | undefined;
  private readonly oom = new Map<string, { count: number; stop: () => void }>();
  /** How each sandbox runs parallel-cc's helpers: the mounted host node, or the image's `node`. */
  private readonly nodeArgv = new Map<string, string[]>();
  private runtime: Promise<HostRuntime | undefined> | undefined;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly config: DockerConfig,
  ) {
    // The one-shot `sandbox exec` speaks to a local daemon's socket itself (engine.ts), without dockerode.
    const socket = engineSocket(env);
    if (socket) {
      const engine = new Engine(socket);
      const runtime = (): Promise<HostRuntime | undefined> => (this.runtime ??= hostNodeRuntime(process.execPath, HOST_LIB));
      this.runOnce = (spec, req, opts = {}) => runOneShot({ engine, config, runtime, imageHint: IMAGE_HINT }, spec, req, opts.upload);
    }
    this.capabilities = { localFilesystem: true, egressControlled: config.network === 'none', hostBridges: true, survivesCli: false, resourceLimits: true, packageAgents: true, workdirChoice: true };
  }

  /** dockerode, loaded at first use: its import is the biggest part of a CLI's start-up, and `sandbox exec` does without it. */
  private get docker(): Docker {
    if (!this.client) {
      const Dockerode = requireCjs('dockerode') as typeof Docker;
      this.client = new Dockerode(this.env.DOCKER_HOST?.startsWith('unix://') ? { socketPath: this.env.DOCKER_HOST.slice(7) } : undefined);
    }
    return this.client;
  }

  /**
   * The daemon answers and has the image. Checked once per process and image (a `--multi` fleet's
   * every task asks): a success is kept, a failure is asked again next time.
   */
  checkAvailable(): Promise<void> {
    return keptUnlessFailed(AVAILABLE, `${this.env.DOCKER_HOST ?? ''}\0${this.config.image}`, () => this.check());
  }

  private async check(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (e) {
      throw new AppError('environment', 'the docker daemon is not reachable', {
        cause: e,
        hint: 'Start Docker (sudo systemctl start docker), check DOCKER_HOST and that you may use the socket, or use --provider native.',
      });
    }
    try {
      await this.docker.getImage(this.config.image).inspect();
    } catch {
      throw new AppError('environment', `the docker image ${this.config.image} is not on this machine`, {
        hint: `Build it: docker build -t ${this.config.image} docker/  (or scripts/build-test-image.sh without a registry), or pick one with --docker-image.`,
      });
    }
  }

  async create(spec: SandboxSpec): Promise<SandboxHandle> {
    // The bridges and the killer run on the host's node, so the image needs no node of its own.
    const runtime = (this.runtime ??= hostNodeRuntime(process.execPath, HOST_LIB));
    const plan = await planContainer(spec, this.config, runtime, ['sleep', 'infinity']);
    const name = plan.name;
    let container: Docker.Container | undefined;
    try {
      container = await this.docker.createContainer(plan.options);
      await container.start();
      // An image without `sleep` starts and stops at once: say so now, not at the first command.
      const stopped = await whyStopped(container);
      if (stopped) throw new Error(stopped);
    } catch (e) {
      // Created but not started (e.g. the image has no `sleep`): never leave it behind.
      await container?.remove({ force: true, v: true }).catch(() => undefined);
      throw containerError(this.config.image, e, 'start', IMAGE_HINT);
    }
    await this.watchOom(name);
    const node = (await runtime)?.node ?? ['node'];
    this.nodeArgv.set(name, node);
    return { id: name, provider: 'docker', workdir: plan.workdir, homedir: HOMEDIR, agentPath: plan.agentPath, nodeArgv: node, endpoints: plan.endpoints };
  }

  /** Counts the daemon's `oom` events for the container (an OOM kill inside it). */
  private async watchOom(name: string): Promise<void> {
    const entry = { count: 0, stop: (): void => undefined };
    this.oom.set(name, entry);
    const events = await this.docker.getEvents({ filters: { container: [name], event: ['oom'] } }).catch(() => undefined);
    if (!events) return;
    events.on('data', () => (entry.count += 1));
    events.on('error', () => undefined);
    entry.stop = () => (events as unknown as { destroy?: () => void }).destroy?.();
  }

  async upload(sandbox: SandboxHandle, source: UploadSource): Promise<{ files: number; bytes: number }> {
    const info = await this.docker.getContainer(sandbox.id).inspect();
    const workspace = workspaceOf(info);
    if (!workspace) throw new AppError('internal', `container ${sandbox.id} has no workspace mount`);
    const r = await copyIntoWorkspace(workspace, source);
    if (process.getuid?.() === 0) await chownTree(workspace, AGENT_UID);
    return r;
  }

  execute(sandbox: SandboxHandle, req: ExecRequest): ExecHandle {
    const execId = randomBytes(8).toString('hex');
    const node = this.nodeArgv.get(sandbox.id) ?? ['node'];
    const argv = bridgedArgv(node, sandbox.endpoints, req);
    const env = { ...sandboxEnv(req.env), PCC_EXEC_ID: execId };
    const container = this.docker.getContainer(sandbox.id);
    const start = (async () => {
      const exec = await container.exec({
        Cmd: argv,
        Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        WorkingDir: req.cwd ?? sandbox.workdir,
        User: containerUser(),
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
      });
      const stream = await exec.start({ hijack: true, stdin: true });
      return { exec, stream };
    })().catch(async (e: unknown) => {
      throw new Error((await whyStopped(container)) ?? (e as Error).message);
    });
    const killer = async (): Promise<void> => {
      const k = await container.exec({ Cmd: [...node, '-e', KILL_SCRIPT, execId], User: containerUser(), AttachStdout: true, AttachStderr: true });
      const s = await k.start({});
      await new Promise<void>((r) => {
        s.on('end', r);
        s.on('close', r);
        s.resume();
      });
    };
    return new DockerExecHandle(this.docker, start, req.stdin, killer);
  }

  async diagnose(sandbox: SandboxHandle): Promise<{ message: string; hint?: string } | undefined> {
    const why = await whyStopped(this.docker.getContainer(sandbox.id));
    return why ? { message: `${why} (image ${this.config.image})`, hint: IMAGE_HINT } : undefined;
  }

  async download(sandbox: SandboxHandle, path: string): Promise<Buffer> {
    const r = await execCollect(this, sandbox, { argv: ['cat', '--', path] });
    if (r.exitCode !== 0) throw new AppError('not_found', `cannot read ${path} in container ${sandbox.id}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  async destroy(sandbox: SandboxHandle, opts: { keep?: boolean } = {}): Promise<void> {
    this.oom.get(sandbox.id)?.stop();
    this.oom.delete(sandbox.id);
    this.nodeArgv.delete(sandbox.id);
    if (opts.keep) return;
    const container = this.docker.getContainer(sandbox.id);
    const info = await container.inspect().catch(() => undefined);
    await container.remove({ force: true, v: true }).catch(() => undefined);
    const workspace = workspaceOf(info);
    if (workspace) await rm(join(workspace, '..'), { recursive: true, force: true });
  }

  async reconnect(sandboxId: string, session: { sessionId: string; sandboxDir?: string }): Promise<SandboxHandle | undefined> {
    if (sandboxId !== containerName(session.sessionId)) return undefined;
    const container = this.docker.getContainer(sandboxId);
    const info = await container.inspect().catch(() => undefined);
    if (!info) return undefined;
    if (!info.State.Running) await container.start().catch(() => undefined);
    const hostNode = info.HostConfig.Binds?.some((b) => b.endsWith(`:${HOST_LIB}/node:ro`));
    this.nodeArgv.set(sandboxId, hostNode ? [`${HOST_LIB}/ld.so`, '--library-path', HOST_LIB, `${HOST_LIB}/node`] : ['node']);
    return { id: sandboxId, provider: 'docker', workdir: info.Config.WorkingDir || WORKDIR, homedir: HOMEDIR, agentPath: `${OPT}/bin/claude`, endpoints: {} };
  }

  async listSandboxes(): Promise<Array<{ id: string; labels: Record<string, string>; running: boolean }>> {
    const list = await this.docker.listContainers({ all: true, filters: { label: ['parallel-cc.session'] } });
    return list.map((c) => ({ id: (c.Names[0] ?? c.Id).replace(/^\//, ''), labels: c.Labels, running: c.State === 'running' }));
  }

  async stats(sandbox: SandboxHandle): Promise<SandboxStats> {
    const container = this.docker.getContainer(sandbox.id);
    const [s, info] = await Promise.all([container.stats({ stream: false }), container.inspect()]);
    const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
    const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
    const cpus = s.cpu_stats.online_cpus ?? 1;
    return {
      uptimeMs: Date.now() - Date.parse(info.State.StartedAt),
      cpuPercent: sysDelta > 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0,
      memoryBytes: s.memory_stats.usage,
      memoryLimitBytes: s.memory_stats.limit,
      pids: (s as unknown as { pids_stats?: { current?: number } }).pids_stats?.current ?? 0,
    };
  }

  async limitEvents(sandbox: SandboxHandle): Promise<LimitReport> {
    const info = await this.docker.getContainer(sandbox.id).inspect().catch(() => undefined);
    const counters = info
      ? await readCounters(info.Id, async () => {
          const node = this.nodeArgv.get(sandbox.id) ?? ['node'];
          return (await execCollect(this, sandbox, { argv: [...node, '-e', IN_CONTAINER_SCRIPT] })).stdout.toString('utf8');
        })
      : { pidsMax: 0 };
    // The kernel's oom_kill counter is exact; the daemon's oom events (which can fire twice for one
    // kill) and the container's OOMKilled flag stand in where the counter cannot be read.
    const oomKills = counters.oomKills ?? Math.max(this.oom.get(sandbox.id)?.count ?? 0, info?.State.OOMKilled ? 1 : 0);
    return { oomKills, pidsLimitHits: counters.pidsMax, memoryLimit: this.config.memoryLimit, pidsLimit: PIDS_LIMIT };
  }
}
