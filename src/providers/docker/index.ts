import type Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config/schema.js';
import { AppError } from '../../errors.js';
import { bridgedArgv, chained } from '../local/bridges.js';
import { HOMEDIR, OPT, sandboxEnv, WORKDIR } from '../local/layout.js';
import { copyIntoWorkspace } from '../local/upload.js';
import { keptUnlessFailed } from '../../core/memo.js';
import {
  execCollect,
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
import { containerStats, inspectContainer, listContainers, removeContainer, startContainer, startExec } from './container-api.js';
import { AGENT_UID, containerName, containerUser, HOST_LIB, PIDS_LIMIT } from './container-spec.js';
import { chownTree, hostNodeRuntime, type HostRuntime } from './host-runtime.js';
import { Engine } from './engine.js';
import { runOneShot } from './one-shot.js';
import { IN_CONTAINER_SCRIPT, readCounters } from './limits.js';
import { createRunContainer, readyForCommands, type LiveContainer } from './run-container.js';

type DockerConfig = Config['providers']['docker'];

// Kills every process of one exec: each carries PCC_EXEC_ID=<id> in its environment, children too.
const KILL_SCRIPT = `const fs=require('fs');const m='PCC_EXEC_ID='+process.argv[1];for(const p of fs.readdirSync('/proc')){if(!/^\\d+$/.test(p)||+p===process.pid)continue;try{if(fs.readFileSync('/proc/'+p+'/environ','latin1').split('\\0').includes(m))process.kill(+p,9)}catch{}}`;

/** The host folder of a container's workspace: the bind onto its working folder (`--working-dir`, else /workspace). */
const workspaceOf = (info: Docker.ContainerInspectInfo | undefined): string | undefined => {
  const suffix = `:${info?.Config.WorkingDir || WORKDIR}`;
  return info?.HostConfig.Binds?.find((b) => b.endsWith(suffix))?.slice(0, -suffix.length);
};

/** checkAvailable's answers of this process, by daemon and image. */
const AVAILABLE = new Map<string, Promise<void>>();
const IMAGE_HINT = 'The image needs a glibc userland with sleep, sh/bash and git (see docker/Dockerfile); check `docker info` and the limits in PARALLEL_CC_DOCKER_*.';

/**
 * The docker provider: one hardened container per session (no capabilities, no-new-privileges, a
 * non-root user, read-only root filesystem, pids/memory/CPU limits, network `none` by default), the
 * workspace and home bind-mounted from the session folder on the host (as for native, so the work
 * survives a dead CLI), and every command a `docker exec` — all over engine.ts (no dockerode). With network `none` the agent reaches the
 * model API and allowlisted hosts only through the same host-side broker and proxy as native,
 * over unix sockets mounted into the container.
 */
export class DockerProvider implements SandboxProvider {
  readonly name = 'docker' as const;
  readonly capabilities: SandboxProvider['capabilities'];
  /** `sandbox exec`'s one command as the container's own process (one-shot.ts). */
  readonly runOnce: NonNullable<SandboxProvider['runOnce']>;
  private client: Engine | undefined;
  /** The containers this process created or reconnected, by name. */
  private readonly live = new Map<string, LiveContainer>();
  private runtime: Promise<HostRuntime | undefined> | undefined;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly config: DockerConfig,
  ) {
    const runtime = (): Promise<HostRuntime | undefined> => (this.runtime ??= hostNodeRuntime(process.execPath, HOST_LIB));
    this.runOnce = async (spec, req, opts = {}) => runOneShot({ engine: this.engine, config, runtime, imageHint: IMAGE_HINT }, spec, req, opts.upload);
    this.capabilities = { localFilesystem: true, egressControlled: config.network === 'none', hostBridges: true, survivesCli: false, resourceLimits: true, packageAgents: true, workdirChoice: true, chainedExec: true };
  }

  /** The daemon DOCKER_HOST names (an `environment` error when it cannot be understood). */
  private get engine(): Engine {
    return (this.client ??= Engine.of(this.env));
  }

  /**
   * The daemon answers and has the image. Checked once per process and image (a `--multi` fleet's
   * every task asks): a success is kept, a failure is asked again next time.
   */
  checkAvailable(): Promise<void> {
    return keptUnlessFailed(AVAILABLE, `${this.env.DOCKER_HOST ?? ''}\0${this.config.image}`, () => this.check());
  }

  private async check(): Promise<void> {
    const engine = this.engine;
    try {
      await engine.raw('GET', '/_ping');
    } catch (e) {
      throw new AppError('environment', 'the docker daemon is not reachable', {
        cause: e,
        hint: 'Start Docker (sudo systemctl start docker), check DOCKER_HOST and that you may use the socket, or use --provider native.',
      });
    }
    try {
      await engine.call('GET', `/images/${encodeURI(this.config.image).replace(/[?#]/g, encodeURIComponent)}/json`);
    } catch {
      throw new AppError('environment', `the docker image ${this.config.image} is not on this machine`, {
        hint: `Build it: docker build -t ${this.config.image} docker/  (or scripts/build-test-image.sh without a registry), or pick one with --docker-image.`,
      });
    }
  }

  async create(spec: SandboxSpec): Promise<SandboxHandle> {
    // The bridges and the killer run on the host's node, so the image needs no node of its own.
    const runtime = (this.runtime ??= hostNodeRuntime(process.execPath, HOST_LIB));
    const { plan, live } = await createRunContainer(this.engine, spec, this.config, runtime, IMAGE_HINT);
    this.live.set(plan.name, live);
    return { id: plan.name, provider: 'docker', workdir: plan.workdir, homedir: HOMEDIR, agentPath: plan.agentPath, nodeArgv: live.node, endpoints: plan.endpoints };
  }

  /**
   * The workspace on the host while no command has run in the container (then only our upload is
   * in it, and the host may make the sandbox repo there while the container starts); undefined after.
   */
  hostWorkdir(sandbox: SandboxHandle): string | undefined {
    const live = this.live.get(sandbox.id);
    return live?.fresh ? live.workspace : undefined;
  }

  /** The host folder mounted as a container's workspace: known for our own containers, else inspected. */
  private async workspace(id: string, live: LiveContainer | undefined): Promise<string | undefined> {
    return live ? live.workspace : workspaceOf(await inspectContainer(this.engine, id).catch(() => undefined));
  }

  async upload(sandbox: SandboxHandle, source: UploadSource): Promise<{ files: number; bytes: number }> {
    const live = this.live.get(sandbox.id);
    const workspace = await this.workspace(sandbox.id, live);
    if (!workspace) throw new AppError('internal', `container ${sandbox.id} has no workspace mount`);
    const r = await copyIntoWorkspace(workspace, source);
    // Before the first command the whole workspace is handed over at once (readyForCommands).
    if (process.getuid?.() === 0 && !live?.fresh) await chownTree(workspace, AGENT_UID);
    return r;
  }

  execute(sandbox: SandboxHandle, req: ExecRequest): ExecHandle {
    const execId = randomBytes(8).toString('hex');
    const live = this.live.get(sandbox.id);
    const node = live?.node ?? ['node'];
    // The chained step carries the exec's marker too: the killer reaches it.
    const then = chained(req.then, req.cwd ?? sandbox.workdir, (e) => ({ ...sandboxEnv(e), PCC_EXEC_ID: execId }));
    const argv = bridgedArgv(node, sandbox.endpoints, req, then);
    const env = { ...sandboxEnv(req.env), PCC_EXEC_ID: execId };
    const engine = this.engine;
    const ready = live ? readyForCommands(live) : Promise.resolve();
    const start = ready
      .then(() =>
        startExec(engine, sandbox.id, {
          Cmd: argv,
          Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
          WorkingDir: req.cwd ?? sandbox.workdir,
          User: containerUser(),
          AttachStdin: true,
          AttachStdout: true,
          AttachStderr: true,
          Tty: false,
        }),
      )
      .catch(async (e: unknown) => {
        throw new Error((await whyStopped(engine, sandbox.id)) ?? (e as Error).message);
      });
    const killer = async (): Promise<void> => {
      await ready;
      const { stream } = await startExec(engine, sandbox.id, { Cmd: [...node, '-e', KILL_SCRIPT, execId], User: containerUser(), AttachStdout: true, AttachStderr: true });
      await new Promise<void>((r) => {
        stream.on('end', r);
        stream.on('close', r);
        stream.on('error', () => r());
        stream.resume();
        stream.end();
      });
    };
    return new DockerExecHandle(engine, start, req.stdin, killer);
  }

  async diagnose(sandbox: SandboxHandle): Promise<{ message: string; hint?: string } | undefined> {
    // A container still starting is not down: its start is waited for (a failed one is then explained).
    await this.live.get(sandbox.id)?.started.catch(() => undefined);
    const why = await whyStopped(this.engine, sandbox.id);
    return why ? { message: `${why} (image ${this.config.image})`, hint: IMAGE_HINT } : undefined;
  }

  async download(sandbox: SandboxHandle, path: string): Promise<Buffer> {
    const r = await execCollect(this, sandbox, { argv: ['cat', '--', path] });
    if (r.exitCode !== 0) throw new AppError('not_found', `cannot read ${path} in container ${sandbox.id}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  async destroy(sandbox: SandboxHandle, opts: { keep?: boolean } = {}): Promise<void> {
    const live = this.live.get(sandbox.id);
    this.live.delete(sandbox.id);
    // The start settles first: the oom watch is set up by then, and a removal never races a start.
    await live?.started.catch(() => undefined);
    live?.oom.stop();
    if (opts.keep) return;
    const workspace = await this.workspace(sandbox.id, live);
    await removeContainer(this.engine, sandbox.id).catch(() => undefined);
    if (workspace) await rm(join(workspace, '..'), { recursive: true, force: true });
  }

  async reconnect(sandboxId: string, session: { sessionId: string; sandboxDir?: string }): Promise<SandboxHandle | undefined> {
    if (sandboxId !== containerName(session.sessionId)) return undefined;
    const info = await inspectContainer(this.engine, sandboxId).catch(() => undefined);
    if (!info) return undefined;
    if (!info.State.Running) await startContainer(this.engine, sandboxId).catch(() => undefined);
    const hostNode = info.HostConfig.Binds?.some((b) => b.endsWith(`:${HOST_LIB}/node:ro`));
    const node = hostNode ? [`${HOST_LIB}/ld.so`, '--library-path', HOST_LIB, `${HOST_LIB}/node`] : ['node'];
    // Commands have run in it: its workspace is the agent's, never the host's to work in.
    this.live.set(sandboxId, { id: info.Id, workspace: workspaceOf(info), node, fresh: false, started: Promise.resolve(), oom: { count: 0, stop: () => undefined }, ready: Promise.resolve() });
    return { id: sandboxId, provider: 'docker', workdir: info.Config.WorkingDir || WORKDIR, homedir: HOMEDIR, agentPath: `${OPT}/bin/claude`, endpoints: {} };
  }

  async listSandboxes(): Promise<Array<{ id: string; labels: Record<string, string>; running: boolean }>> {
    const list = await listContainers(this.engine, 'parallel-cc.session');
    return list.map((c) => ({ id: (c.Names[0] ?? c.Id).replace(/^\//, ''), labels: c.Labels, running: c.State === 'running' }));
  }

  async stats(sandbox: SandboxHandle): Promise<SandboxStats> {
    const [s, info] = await Promise.all([containerStats(this.engine, sandbox.id), inspectContainer(this.engine, sandbox.id)]);
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
    const live = this.live.get(sandbox.id);
    // The container's id is known since its creation: an inspect only where the counters need it.
    const inspect = (): Promise<Docker.ContainerInspectInfo | undefined> => inspectContainer(this.engine, sandbox.id).catch(() => undefined);
    const info = live ? undefined : await inspect();
    const id = live?.id ?? info?.Id;
    const counters = id
      ? await readCounters(id, async () => (await execCollect(this, sandbox, { argv: [...(live?.node ?? ['node']), '-e', IN_CONTAINER_SCRIPT] })).stdout.toString('utf8'))
      : { pidsMax: 0 };
    // The kernel's oom_kill counter is exact; the daemon's oom events (which can fire twice for one
    // kill) and the container's OOMKilled flag stand in where the counter cannot be read.
    const oomKills = counters.oomKills ?? Math.max(live?.oom.count ?? 0, (info ?? (await inspect()))?.State.OOMKilled ? 1 : 0);
    return { oomKills, pidsLimitHits: counters.pidsMax, memoryLimit: this.config.memoryLimit, pidsLimit: PIDS_LIMIT };
  }
}
