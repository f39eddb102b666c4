import type { Readable } from 'node:stream';
import { Sandbox, type SandboxOpts } from 'e2b';
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
import { e2bError } from './errors.js';
import { E2B_PRICING } from './module.js';
import { E2BExecHandle, logFiles, STATE_DIR } from './exec.js';
import { KEY_IN_SANDBOX_WARNING, keyProtectionText, protectionOf, sessionNetwork } from './network.js';
import { followKeptLog, keptLogRunning, type RemoteShell } from '../remote/follow.js';
import { shellJoin } from '../remote/quote.js';
import { streamedUpload, webStream } from '../remote/upload.js';

type E2BConfig = Config['providers']['e2b'];

const HOMEDIR = '/home/user';
const WORKDIR = `${HOMEDIR}/workspace`;
const NO_RULES_HINT = 'Set providers.e2b.keyInSandbox: true (or PARALLEL_CC_E2B_KEY_IN_SANDBOX=1) to give the agent the real key as an env var instead — any code it runs can read it and egress is not restricted — or use --provider docker or native.';
/** What E2B accepts as one session's upload (spec 000): 500 MB, 100,000 files. */
export const E2B_UPLOAD_LIMITS = { maxBytes: 500_000_000, maxFiles: 100_000 } as const;
/** Extra sandbox lifetime beyond the agent's timeout: upload before, collecting results after. */
const LIFETIME_MARGIN_MINUTES = 10;

/**
 * The E2B provider (spec 000/001): one cloud sandbox per session from a template with Claude Code
 * installed, the working state uploaded as one streamed tar.gz, commands run through envd, results
 * collected inside the sandbox like every provider. The sandbox outlives the CLI (until its own
 * timeout), so a later CLI reconnects by its id: `logs --follow`, `download`, `kill`, `reattach`.
 * The only module that imports the e2b SDK.
 */
export class E2BProvider implements SandboxProvider {
  readonly name = 'e2b' as const;
  readonly capabilities: SandboxProvider['capabilities'] = {
    localFilesystem: false,
    egressControlled: false,
    hostBridges: false,
    survivesCli: true,
    resourceLimits: false,
    agentInstalled: true,
    pricing: E2B_PRICING,
    uploadLimits: E2B_UPLOAD_LIMITS,
  };
  private readonly boxes = new Map<string, Sandbox>();

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly config: E2BConfig,
  ) {}

  /** Connection options for every SDK call: the key, the endpoints, a bounded wait per request. */
  private opts(): SandboxOpts {
    return {
      apiKey: this.env.E2B_API_KEY ?? '',
      ...(this.env.E2B_API_URL ? { apiUrl: this.env.E2B_API_URL } : {}),
      ...(this.env.E2B_SANDBOX_URL ? { sandboxUrl: this.env.E2B_SANDBOX_URL } : {}),
      ...(this.env.E2B_DOMAIN ? { domain: this.env.E2B_DOMAIN } : {}),
      requestTimeoutMs: this.config.requestTimeoutSeconds * 1000,
    };
  }

  async checkAvailable(): Promise<void> {
    const key = this.env.E2B_API_KEY;
    if (!key) {
      throw new AppError('environment', 'E2B_API_KEY is not set', {
        hint: 'Create a key at https://e2b.dev/dashboard?tab=keys and export E2B_API_KEY=e2b_…, or use --provider native.',
      });
    }
    // One cheap authenticated call up front: a bad key or an outage fails here, before any work.
    try {
      await Sandbox.list({ ...this.opts(), limit: 1 }).nextItems();
    } catch (e) {
      throw e2bError('checking the API key', e);
    }
  }

  private box(sandbox: SandboxHandle): Sandbox {
    const sbx = this.boxes.get(sandbox.id);
    if (!sbx) throw new AppError('internal', `E2B sandbox ${sandbox.id} is not connected in this process`);
    return sbx;
  }

  private handle(sbx: Sandbox): SandboxHandle {
    this.boxes.set(sbx.sandboxId, sbx);
    return { id: sbx.sandboxId, provider: 'e2b', workdir: WORKDIR, homedir: HOMEDIR, agentPath: 'claude', endpoints: {} };
  }

  async create(spec: SandboxSpec): Promise<SandboxHandle> {
    const lifetime = Math.min((spec.lifetimeMinutes ?? 60) + LIFETIME_MARGIN_MINUTES, this.config.defaultTimeout / 60);
    // The real key stays out of the sandbox: E2B's egress proxy adds it for the model API host only
    // (network rules), unless the user chose the env-var path for a template/account without rules.
    const net = spec.egress && !this.config.keyInSandbox ? sessionNetwork(spec.egress) : undefined;
    let sbx: Sandbox;
    try {
      sbx = await Sandbox.create(this.config.template, { ...this.opts(), timeoutMs: lifetime * 60_000, metadata: spec.labels, ...(net ? { network: net.network } : {}) });
    } catch (e) {
      throw e2bError(`creating the sandbox from template ${this.config.template}`, e);
    }
    try {
      // A deployment or template without network rules may drop them silently: the agent would then
      // hold only a placeholder and no allowlist would apply. Refuse before anything runs.
      if (net && !(await sbx.getInfo()).network?.rules) throw new AppError('environment', 'E2B did not apply the network rules that keep the API key out of the sandbox (this template, account or deployment has no network rules)', { hint: NO_RULES_HINT });
      // Straight through the SDK: the provider's own command plumbing keeps its files in STATE_DIR.
      await sbx.commands.run(shellJoin(['mkdir', '-p', '-m', '700', STATE_DIR, WORKDIR]), { cwd: HOMEDIR });
    } catch (e) {
      await sbx.kill().catch(() => false);
      throw e2bError('preparing the sandbox', e);
    }
    return {
      ...this.handle(sbx),
      expiresAt: Date.now() + lifetime * 60_000,
      ...(net ? { agentCredential: net.placeholder } : {}),
      ...(spec.egress && !net ? { warnings: [KEY_IN_SANDBOX_WARNING] } : {}),
    };
  }

  /** Which key protection new sessions get (doctor). */
  keyProtection(): string {
    return keyProtectionText(this.config.keyInSandbox ? 'key-in-sandbox' : 'network-rules');
  }

  /** Runs a short command to completion; fails with its stderr when it fails. */
  private async run(sandbox: SandboxHandle, argv: string[]): Promise<Buffer> {
    const r = await execCollect(this, sandbox, { argv, cwd: HOMEDIR });
    if (r.exitCode !== 0) throw new AppError('agent', `\`${argv.join(' ')}\` failed in E2B sandbox ${sandbox.id} (exit ${String(r.exitCode)}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  async upload(sandbox: SandboxHandle, source: UploadSource, opts: UploadOptions = {}): Promise<{ files: number; bytes: number }> {
    const sbx = this.box(sandbox);
    const write = async (path: string, data: Readable): Promise<void> => {
      try {
        await sbx.files.write(path, webStream(data));
      } catch (e) {
        throw e2bError('uploading the working state', e);
      }
    };
    return streamedUpload({ write, run: (argv) => this.run(sandbox, argv) }, source, { stateDir: STATE_DIR, workdir: WORKDIR }, opts);
  }

  execute(sandbox: SandboxHandle, req: ExecRequest): ExecHandle {
    return new E2BExecHandle(this.box(sandbox), { ...req, cwd: req.cwd ?? WORKDIR }, (e) => e2bError('running a command', e));
  }

  async download(sandbox: SandboxHandle, path: string): Promise<Buffer> {
    try {
      return Buffer.from(await this.box(sandbox).files.read(path, { format: 'bytes' }));
    } catch (e) {
      throw e2bError(`reading ${path}`, e);
    }
  }

  async destroy(sandbox: SandboxHandle, opts: { keep?: boolean } = {}): Promise<void> {
    const sbx = this.boxes.get(sandbox.id);
    this.boxes.delete(sandbox.id);
    // Kept sandboxes still end by themselves when their E2B timeout passes.
    if (opts.keep) return;
    await (sbx ? sbx.kill() : Sandbox.kill(sandbox.id, this.opts()));
  }

  async reconnect(sandboxId: string): Promise<SandboxHandle | undefined> {
    try {
      return this.handle(await Sandbox.connect(sandboxId, this.opts()));
    } catch (e) {
      const err = e2bError(`connecting to sandbox ${sandboxId}`, e);
      if (err.kind === 'not_found') return undefined;
      throw err;
    }
  }

  /** The kit's view of one sandbox: commands from the home folder, files read with `cat`. */
  private shell(sandbox: SandboxHandle): RemoteShell {
    return {
      execute: (req) => this.execute(sandbox, { cwd: HOMEDIR, ...req }),
      readFile: (path) => this.run(sandbox, ['cat', path]).catch(() => undefined),
    };
  }

  async followLog(
    sandbox: SandboxHandle,
    name: string,
    opts: { fromLine: number; onLine: (line: string) => void; signal: AbortSignal },
  ): Promise<{ exitCode: number | null }> {
    return followKeptLog(this.shell(sandbox), logFiles(name), opts);
  }

  async diagnose(sandbox: SandboxHandle): Promise<{ message: string; hint?: string } | undefined> {
    const alive = await Sandbox.getInfo(sandbox.id, this.opts()).then(
      (info) => (info.state as string) === 'running',
      (e: unknown) => e2bError('checking the sandbox', e).kind !== 'not_found',
    );
    if (alive) return undefined;
    return {
      message: `the E2B sandbox ${sandbox.id} is gone: it was killed or its E2B timeout passed`,
      hint: 'Its work could not be collected. Check `parallel-cc status --all` for who ended it; PARALLEL_CC_E2B_TIMEOUT sets the sandbox lifetime.',
    };
  }

  async isRunning(sandbox: SandboxHandle, name: string): Promise<boolean> {
    return keptLogRunning(this.shell(sandbox), logFiles(name));
  }

  async stats(sandbox: SandboxHandle): Promise<SandboxStats> {
    const sbx = this.box(sandbox);
    const [info, metrics] = await Promise.all([sbx.getInfo(), sbx.getMetrics().catch(() => [])]);
    const m = metrics[metrics.length - 1];
    return {
      uptimeMs: Date.now() - new Date(info.startedAt).getTime(),
      keyProtection: keyProtectionText(protectionOf(info.network)),
      ...(m ? { cpuPercent: m.cpuUsedPct, memoryBytes: m.memUsed, memoryLimitBytes: m.memTotal, diskBytes: m.diskUsed, diskLimitBytes: m.diskTotal } : {}),
    };
  }

  async listSandboxes(): Promise<Array<{ id: string; labels: Record<string, string>; running: boolean }>> {
    const out: Array<{ id: string; labels: Record<string, string>; running: boolean }> = [];
    const pages = Sandbox.list({ ...this.opts(), query: { metadata: {} } });
    while (pages.hasNext) {
      for (const s of await pages.nextItems()) {
        if (s.metadata['parallel-cc.session']) out.push({ id: s.sandboxId, labels: s.metadata, running: s.state === 'running' });
      }
    }
    return out;
  }
}
