import type { Readable } from 'node:stream';
import { Daytona, type CreateSandboxFromSnapshotParams, type Resources, type Sandbox } from '@daytonaio/sdk';
import type { Config } from '../../config/schema.js';
import { AppError } from '../../errors.js';
import {
  execCollect,
  type ExecHandle,
  type ExecRequest,
  type SandboxHandle,
  type SandboxProvider,
  type SandboxSpec,
  type SandboxStats,
  type UploadOptions,
  type UploadSource,
} from '../provider.js';
import { followKeptLog, keptLogRunning, type RemoteShell } from '../remote/follow.js';
import { streamedUpload } from '../remote/upload.js';
import { daytonaError } from './errors.js';
import { DaytonaExecHandle, logFiles } from './exec.js';
import { daytonaPricing } from './module.js';

type DaytonaConfig = Config['providers']['daytona'];

/** How the model API key reaches the agent in a Daytona sandbox (doctor, health, the run's warning). */
export const DAYTONA_KEY_PROTECTION =
  'key in the sandbox: Daytona has no egress rules that could add the key outside the sandbox, so the agent process gets the real API key as an env var only — sent over its session input with echo off, never a file, a command line or the sandbox env; any code the agent runs can read it';
const KEY_WARNING = 'Daytona: the real API key is inside the cloud sandbox as the agent\'s env var (Daytona cannot add it on egress): any code the agent runs can read it. Use --provider docker or native to keep it on this machine.';
/** What Daytona accepts as one session's upload, as for E2B (spec 000): 500 MB, 100,000 files. */
export const DAYTONA_UPLOAD_LIMITS = { maxBytes: 500_000_000, maxFiles: 100_000 } as const;

/**
 * The Daytona provider: one cloud sandbox per session (labels: session, repo; target, snapshot,
 * resources; auto-stop, auto-archive and always an auto-delete), the working state uploaded as one
 * streamed tar.gz, every command in a process session of its own (runAsync, followed logs), kept
 * active by API calls while this process holds it. The sandbox outlives the CLI, so a later CLI reconnects by its
 * id (a stopped one is started again: its files are still there). The only module that imports the
 * Daytona SDK.
 */
export class DaytonaProvider implements SandboxProvider {
  readonly name = 'daytona' as const;
  readonly capabilities: SandboxProvider['capabilities'];
  private readonly boxes = new Map<string, { sbx: Sandbox; home: string; keepAlive: NodeJS.Timeout }>();
  private client: Daytona | undefined;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly config: DaytonaConfig,
  ) {
    this.capabilities = { localFilesystem: false, egressControlled: false, hostBridges: false, survivesCli: true, resourceLimits: true, agentInstalled: true, pricing: daytonaPricing(config), uploadLimits: DAYTONA_UPLOAD_LIMITS };
  }

  /** One SDK client, configured from our env only (never the working directory's .env files). */
  private daytona(): Daytona {
    const target = this.config.target ?? this.env.DAYTONA_TARGET;
    this.client ??= new Daytona({
      apiKey: this.env.DAYTONA_API_KEY ?? '',
      apiUrl: this.env.DAYTONA_API_URL || 'https://app.daytona.io/api',
      ...(target ? { target } : {}),
      requestTimeoutMs: this.config.requestTimeoutSeconds * 1000,
      useDeprecatedPolling: this.env.DAYTONA_USE_DEPRECATED_POLLING === 'true',
    });
    return this.client;
  }

  async checkAvailable(): Promise<void> {
    if (!this.env.DAYTONA_API_KEY) {
      throw new AppError('environment', 'DAYTONA_API_KEY is not set', { hint: 'Create a key at https://app.daytona.io/dashboard/keys and export DAYTONA_API_KEY=dtn_…, or use --provider native.' });
    }
    try {
      await this.daytona().list({ limit: 1 }).next();
    } catch (e) {
      throw daytonaError('checking the API key', e);
    }
  }

  private box(sandbox: SandboxHandle): { sbx: Sandbox; home: string; keepAlive: NodeJS.Timeout } {
    const b = this.boxes.get(sandbox.id);
    if (!b) throw new AppError('internal', `Daytona sandbox ${sandbox.id} is not connected in this process`);
    return b;
  }

  private stateDir(home: string): string {
    return `${home}/.parallel-cc`;
  }

  /** The handle of a connected sandbox; `home` when already known (create learns it with its first command). */
  private async handle(sbx: Sandbox, known?: string): Promise<SandboxHandle> {
    const home = known ?? (await sbx.getUserHomeDir()) ?? '/home/daytona';
    // Daytona's auto-stop counts API calls only, not the processes inside: while this process holds
    // the sandbox (create or reconnect until destroy), it keeps it active.
    const keepAlive = setInterval(() => void sbx.refreshActivity().catch(() => undefined), this.config.keepAliveSeconds * 1000);
    keepAlive.unref();
    clearInterval(this.boxes.get(sbx.id)?.keepAlive);
    this.boxes.set(sbx.id, { sbx, home, keepAlive });
    return { id: sbx.id, provider: 'daytona', workdir: `${home}/workspace`, homedir: home, agentPath: 'claude', endpoints: {} };
  }

  async create(spec: SandboxSpec): Promise<SandboxHandle> {
    const { cpu, memory, disk } = this.config;
    const resources: Resources | undefined = cpu || memory || disk ? { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}), ...(disk ? { disk } : {}) } : undefined;
    // `resources` is honoured for snapshot sandboxes too (the SDK sends it whenever it is given).
    const params: CreateSandboxFromSnapshotParams & { resources?: Resources } = {
      ...(this.config.snapshot ? { snapshot: this.config.snapshot } : {}),
      labels: spec.labels,
      ...(resources ? { resources } : {}),
      autoStopInterval: this.config.autoStopInterval,
      autoArchiveInterval: this.config.autoArchiveInterval,
      // Always set: a sandbox whose CLI died stops by itself, then is deleted (never bills forever).
      autoDeleteInterval: this.config.autoDeleteInterval,
    };
    let sbx: Sandbox;
    try {
      sbx = await this.daytona().create(params, { timeout: this.config.requestTimeoutSeconds * 2 });
    } catch (e) {
      throw daytonaError(`creating the sandbox${this.config.snapshot ? ` from snapshot ${this.config.snapshot}` : ''}`, e);
    }
    try {
      // Straight through the SDK (the provider's command plumbing keeps its own files in the state
      // folder), and in one call: the home folder, the state folder and the workspace.
      const made = await sbx.process.executeCommand(`cd && mkdir -p -m 700 .parallel-cc workspace && pwd`);
      const home = made.result.trim();
      if (made.exitCode !== 0 || !home.startsWith('/')) throw new AppError('environment', `cannot create the working folders in Daytona sandbox ${sbx.id}: ${made.result.trim()}`);
      return { ...(await this.handle(sbx, home)), ...(spec.egress ? { warnings: [KEY_WARNING] } : {}) };
    } catch (e) {
      clearInterval(this.boxes.get(sbx.id)?.keepAlive);
      this.boxes.delete(sbx.id);
      await sbx.delete().catch(() => undefined);
      throw daytonaError('preparing the sandbox', e);
    }
  }

  keyProtection(): string {
    return DAYTONA_KEY_PROTECTION;
  }

  /** Runs a short command to completion; fails with its stderr when it fails. */
  private async run(sandbox: SandboxHandle, argv: string[]): Promise<Buffer> {
    const r = await execCollect(this, sandbox, { argv, cwd: sandbox.homedir });
    if (r.exitCode !== 0) throw new AppError('agent', `\`${argv.join(' ')}\` failed in Daytona sandbox ${sandbox.id} (exit ${String(r.exitCode)}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  async upload(sandbox: SandboxHandle, source: UploadSource, opts: UploadOptions = {}): Promise<{ files: number; bytes: number }> {
    const { sbx, home } = this.box(sandbox);
    const write = async (path: string, data: Readable): Promise<void> => {
      try {
        await sbx.fs.uploadFileStream(data, path);
      } catch (e) {
        throw daytonaError('uploading the working state', e);
      }
    };
    return streamedUpload({ write, run: (argv) => this.run(sandbox, argv) }, source, { stateDir: this.stateDir(home), workdir: sandbox.workdir }, opts);
  }

  execute(sandbox: SandboxHandle, req: ExecRequest): ExecHandle {
    const { sbx, home } = this.box(sandbox);
    return new DaytonaExecHandle(sbx, this.stateDir(home), { ...req, cwd: req.cwd ?? sandbox.workdir }, (e) => daytonaError('running a command', e));
  }

  async download(sandbox: SandboxHandle, path: string): Promise<Buffer> {
    try {
      return await this.box(sandbox).sbx.fs.downloadFile(path);
    } catch (e) {
      throw daytonaError(`reading ${path}`, e);
    }
  }

  async destroy(sandbox: SandboxHandle, opts: { keep?: boolean } = {}): Promise<void> {
    const b = this.boxes.get(sandbox.id);
    clearInterval(b?.keepAlive);
    this.boxes.delete(sandbox.id);
    // A kept sandbox still stops after autoStopInterval without activity, then is deleted.
    if (opts.keep) return;
    try {
      await (b ? b.sbx.delete() : (await this.daytona().get(sandbox.id)).delete());
    } catch (e) {
      const err = daytonaError(`deleting sandbox ${sandbox.id}`, e);
      if (err.kind !== 'not_found') throw err;
    }
  }

  async reconnect(sandboxId: string): Promise<SandboxHandle | undefined> {
    try {
      const sbx = await this.daytona().get(sandboxId);
      // Stopped by auto-stop while no CLI kept it active: its files are still there.
      if (sbx.state === 'stopped' || sbx.state === 'archived') await sbx.start(this.config.requestTimeoutSeconds * 2);
      if (sbx.state === 'destroyed' || sbx.state === 'destroying') return undefined;
      return await this.handle(sbx);
    } catch (e) {
      const err = daytonaError(`connecting to sandbox ${sandboxId}`, e);
      if (err.kind === 'not_found') return undefined;
      throw err;
    }
  }

  /** The kit's view of one sandbox: commands from the home folder, files read through the toolbox. */
  private shell(sandbox: SandboxHandle): RemoteShell {
    return {
      execute: (req) => this.execute(sandbox, { cwd: sandbox.homedir, ...req }),
      readFile: (path) => this.download(sandbox, path).catch(() => undefined),
    };
  }

  async followLog(sandbox: SandboxHandle, name: string, opts: { fromLine: number; onLine: (line: string) => void; signal: AbortSignal }): Promise<{ exitCode: number | null }> {
    return followKeptLog(this.shell(sandbox), logFiles(this.stateDir(this.box(sandbox).home), name), opts);
  }

  async isRunning(sandbox: SandboxHandle, name: string): Promise<boolean> {
    return keptLogRunning(this.shell(sandbox), logFiles(this.stateDir(this.box(sandbox).home), name));
  }

  async diagnose(sandbox: SandboxHandle): Promise<{ message: string; hint?: string } | undefined> {
    const state = await this.daytona()
      .get(sandbox.id)
      .then(
        (s) => String(s.state),
        (e: unknown) => (daytonaError('checking the sandbox', e).kind === 'not_found' ? 'deleted' : 'started'),
      );
    if (state === 'started') return undefined;
    return {
      message: `the Daytona sandbox ${sandbox.id} is ${state}: it was stopped or deleted while the command ran`,
      hint: 'Check `parallel-cc status --all`; a sandbox without API activity for providers.daytona.autoStopInterval minutes is stopped by Daytona (PARALLEL_CC_DAYTONA_AUTO_STOP).',
    };
  }

  async stats(sandbox: SandboxHandle): Promise<SandboxStats> {
    const { sbx } = this.box(sandbox);
    await sbx.refreshData().catch(() => undefined);
    const m = await sbx.getMetricsLatest().catch(() => undefined);
    return {
      ...(sbx.createdAt ? { uptimeMs: Date.now() - new Date(sbx.createdAt).getTime() } : {}),
      keyProtection: DAYTONA_KEY_PROTECTION,
      ...(m ? { cpuPercent: m.cpuUsedPct, memoryBytes: m.memUsed, memoryLimitBytes: m.memTotal, diskBytes: m.diskUsed, diskLimitBytes: m.diskTotal } : {}),
    };
  }

  async listSandboxes(): Promise<Array<{ id: string; labels: Record<string, string>; running: boolean }>> {
    const out: Array<{ id: string; labels: Record<string, string>; running: boolean }> = [];
    try {
      for await (const s of this.daytona().list()) if (s.labels['parallel-cc.session']) out.push({ id: s.id, labels: s.labels, running: s.state === 'started' });
    } catch (e) {
      throw daytonaError('listing sandboxes', e);
    }
    return out;
  }
}
