import type { Readable } from 'node:stream';
import type { Config } from '../../config/schema.js';
import { AppError } from '../../errors.js';
import type { ExecHandle, ExecRequest, SandboxHandle, SandboxProvider, SandboxSpec, SandboxStats, UploadOptions, UploadSource } from '../provider.js';
import { followKeptLog, keptLogRunning, type RemoteShell } from '../remote/follow.js';
import { streamedUpload } from '../remote/upload.js';
import { BRIDGE_ROOT, BridgeClient } from './bridge.js';
import { cloudflareError } from './errors.js';
import { CloudflareExecHandle, HOME_DIR, logFiles, readExact, runQuiet, STATE_DIR, type BridgeBox } from './exec.js';
import { cloudflarePricing, INSTANCE_TYPES } from './module.js';

type CloudflareConfig = Config['providers']['cloudflare'];

/** The agent's working folder: below /workspace (the bridge's root), beside the provider's own folder. */
const WORKDIR = `${BRIDGE_ROOT}/repo`;
/** Written at creation: a container without it is not the one the session started in. */
const MARKER = `${STATE_DIR}/sandbox-id`;
/** Upload parts: well under the bridge's 32 MiB per PUT (it base64-encodes each body in memory). */
const PART_BYTES = 16 * 1024 * 1024;
/** Extra lifetime beyond the agent's timeout: upload before, collecting results after. */
const LIFETIME_MARGIN_MINUTES = 10;
/** The bridge's sandbox ids (base32, lower case): anything else it refuses with 400. */
const SANDBOX_ID = /^[a-z2-7]{1,128}$/;
const STATS_SCRIPT = 'echo "mem $(cat /sys/fs/cgroup/memory.current 2>/dev/null)"; echo "max $(cat /sys/fs/cgroup/memory.max 2>/dev/null)"; echo "disk $(du -sb /workspace 2>/dev/null | cut -f1)"; echo "pids $(ls /proc | grep -c "^[0-9]")"';

/**
 * The Cloudflare provider (spec 001): one Cloudflare container per session, reached through the
 * Sandbox SDK's HTTP bridge that the user deploys (deploy/cloudflare-bridge): plain fetch + SSE
 * (bridge.ts holds the whole wire). The working state goes up as a tar.gz in parts of at most
 * 16 MiB (the bridge takes 32 MiB per request), the agent runs as a long exec with its stdout kept
 * in the sandbox, a keep-alive holds the container awake while anything runs, and results are
 * collected inside the sandbox like every provider. The container outlives the CLI until it sleeps
 * (10 idle minutes): a later CLI reconnects by id — unless it slept, when its files are gone and
 * reconnect says so.
 */
export class CloudflareProvider implements SandboxProvider {
  readonly name = 'cloudflare' as const;
  readonly capabilities: SandboxProvider['capabilities'];
  private readonly client: BridgeClient;
  private readonly holds = new Map<string, { count: number; timer?: NodeJS.Timeout }>();
  /** The hold of each sandbox this process has (created or reconnected) until it lets it go (destroy, keep or not). */
  private readonly held = new Map<string, () => void>();

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly config: CloudflareConfig,
  ) {
    this.capabilities = { localFilesystem: false, egressControlled: false, hostBridges: false, survivesCli: true, resourceLimits: false, agentInstalled: true, pricing: cloudflarePricing(config.instanceType) };
    this.client = new BridgeClient(env.CLOUDFLARE_SANDBOX_URL ?? '', env.SANDBOX_API_KEY ?? '', config.requestTimeoutSeconds * 1000);
  }

  async checkAvailable(): Promise<void> {
    if (!this.env.CLOUDFLARE_SANDBOX_URL) {
      throw new AppError('environment', 'CLOUDFLARE_SANDBOX_URL is not set', { hint: 'Deploy the bridge Worker (deploy/cloudflare-bridge, three commands in the README) and export CLOUDFLARE_SANDBOX_URL=https://<worker>.<account>.workers.dev and SANDBOX_API_KEY, or use --provider native.' });
    }
    if (!this.env.SANDBOX_API_KEY) throw new AppError('environment', 'SANDBOX_API_KEY is not set', { hint: 'Export the value you gave `npx wrangler secret put SANDBOX_API_KEY` when deploying the bridge.' });
    // POST /v1/sandbox checks the key and starts no container: a bad key or a missing Worker fails here.
    await this.client.createSandbox().catch((e: unknown) => {
      throw cloudflareError('checking the bridge and SANDBOX_API_KEY', e);
    });
  }

  /** One sandbox as exec handles see it; `hold` keeps its container awake while any hold is open (GET /running every keepAliveSeconds). */
  private box(id: string): BridgeBox {
    return {
      client: this.client,
      id,
      gone: () => this.lost(id),
      hold: () => {
        const h = this.holds.get(id) ?? { count: 0 };
        this.holds.set(id, h);
        if (h.count++ === 0) h.timer = setInterval(() => void this.client.running(id).catch(() => undefined), this.config.keepAliveSeconds * 1000).unref();
        let released = false;
        return () => {
          if (released) return;
          released = true;
          if (--h.count === 0) {
            clearInterval(h.timer);
            this.holds.delete(id);
          }
        };
      },
    };
  }

  private handle(id: string, expiresAt?: number): SandboxHandle {
    // While this CLI has the sandbox it stays awake, between commands too (importing results can take
    // a while) — but not past its lifetime (PARALLEL_CC_CF_SANDBOX_TIMEOUT): then it may sleep.
    if (!this.held.has(id)) {
      const release = this.box(id).hold();
      const end = expiresAt ? setTimeout(release, expiresAt - Date.now()).unref() : undefined;
      this.held.set(id, () => (clearTimeout(end), release()));
    }
    return { id, provider: 'cloudflare', workdir: WORKDIR, homedir: HOME_DIR, agentPath: 'claude', endpoints: {}, ...(expiresAt ? { expiresAt } : {}) };
  }

  async create(spec: SandboxSpec): Promise<SandboxHandle> {
    const lifetime = Math.min((spec.lifetimeMinutes ?? 60) + LIFETIME_MARGIN_MINUTES, this.config.timeout / 60);
    let id: string;
    try {
      id = await this.client.createSandbox();
    } catch (e) {
      throw cloudflareError('creating the sandbox', e);
    }
    const box = this.box(id);
    try {
      const code = await runQuiet(box, ['sh', '-c', 'mkdir -p -m 700 "$1" && mkdir -p "$2" "$5" && printf %s "$3" > "$4"', 'sh', STATE_DIR, WORKDIR, id, MARKER, HOME_DIR]);
      if (code !== 0) throw new AppError('environment', `preparing Cloudflare sandbox ${id} failed (exit ${code})`);
    } catch (e) {
      await this.client.deleteSandbox(id).catch(() => undefined);
      throw cloudflareError('preparing the sandbox', e);
    }
    return {
      ...this.handle(id, Date.now() + lifetime * 60_000),
      // No host bridges and no egress rules on Cloudflare: the agent gets the key as an env var of its session.
      ...(spec.egress ? { warnings: ['the model API key is an environment variable of the agent inside the Cloudflare sandbox (no host bridge reaches it); any code the agent runs can read it, and egress is not restricted'] } : {}),
    };
  }

  keyProtection(): string {
    return 'key in sandbox: the agent gets the real key as an environment variable of its bridge session (Cloudflare has no egress rules for it)';
  }

  private async run(id: string, argv: string[]): Promise<void> {
    const code = await runQuiet(this.box(id), argv).catch((e: unknown) => {
      throw cloudflareError(`running ${argv[0] ?? ''}`, e);
    });
    if (code !== 0) throw new AppError('agent', `\`${argv.join(' ')}\` failed in Cloudflare sandbox ${id} (exit ${code})`);
  }

  async upload(sandbox: SandboxHandle, source: UploadSource, opts: UploadOptions = {}): Promise<{ files: number; bytes: number }> {
    const release = this.box(sandbox.id).hold();
    try {
      // The tar.gz goes up in parts (the bridge takes 32 MiB per request), joined in the sandbox.
      const write = async (path: string, data: Readable): Promise<void> => {
        const parts: string[] = [];
        let buf: Buffer[] = [];
        let size = 0;
        const flush = async (): Promise<void> => {
          const part = `${path}.${String(parts.length).padStart(4, '0')}`;
          await this.client.writeFile(sandbox.id, part, Buffer.concat(buf)).catch((e: unknown) => {
            throw cloudflareError(`uploading part ${parts.length + 1} of the working state`, e);
          });
          parts.push(part);
          buf = [];
          size = 0;
        };
        for await (const chunk of data as AsyncIterable<Buffer>) {
          for (let at = 0; at < chunk.length; ) {
            const take = chunk.subarray(at, at + PART_BYTES - size);
            buf.push(take);
            size += take.length;
            at += take.length;
            if (size === PART_BYTES) await flush();
          }
        }
        if (size > 0 || parts.length === 0) await flush();
        await this.run(sandbox.id, ['sh', '-c', 'out="$1"; shift; cat -- "$@" > "$out" && rm -f -- "$@"', 'sh', path, ...parts]);
      };
      return await streamedUpload({ write, run: (argv) => this.run(sandbox.id, argv) }, source, { stateDir: STATE_DIR, workdir: WORKDIR }, opts);
    } finally {
      release();
    }
  }

  execute(sandbox: SandboxHandle, req: ExecRequest): ExecHandle {
    return new CloudflareExecHandle(this.box(sandbox.id), { ...req, cwd: req.cwd ?? WORKDIR }, (e) => cloudflareError('running a command', e));
  }

  async download(sandbox: SandboxHandle, path: string): Promise<Buffer> {
    const data = await readExact(this.box(sandbox.id), path).catch((e: unknown) => {
      throw cloudflareError(`reading ${path}`, e);
    });
    if (!data) throw new AppError('not_found', `${path} does not exist in Cloudflare sandbox ${sandbox.id}`);
    return data;
  }

  async destroy(sandbox: SandboxHandle, opts: { keep?: boolean } = {}): Promise<void> {
    this.held.get(sandbox.id)?.();
    this.held.delete(sandbox.id);
    // Kept sandboxes sleep by themselves 10 minutes after the last call (their files go with them).
    if (opts.keep) return;
    await this.client.deleteSandbox(sandbox.id).catch((e: unknown) => {
      throw cloudflareError(`destroying sandbox ${sandbox.id}`, e);
    });
  }

  /** Why the sandbox's container is not the session's any more, or undefined while it is. */
  private async lost(id: string): Promise<string | undefined> {
    const marker = await this.client.readFile(id, MARKER);
    if (marker?.toString('utf8') === id) return undefined;
    // Any call starts a fresh, empty container under the same id: let it go again at once.
    await this.client.deleteSandbox(id).catch(() => undefined);
    return `the Cloudflare sandbox ${id} went to sleep or was destroyed: its container was replaced and every file in it is gone`;
  }

  /** The session's sandbox, or undefined when its container is gone (asleep, destroyed) or the id is not the bridge's. */
  async reconnect(sandboxId: string): Promise<SandboxHandle | undefined> {
    if (!SANDBOX_ID.test(sandboxId)) return undefined;
    try {
      return (await this.lost(sandboxId)) ? undefined : this.handle(sandboxId);
    } catch (e) {
      throw cloudflareError(`connecting to sandbox ${sandboxId}`, e);
    }
  }

  async diagnose(sandbox: SandboxHandle): Promise<{ message: string; hint?: string } | undefined> {
    const lost = await this.lost(sandbox.id).catch(() => undefined);
    return lost ? { message: lost, hint: 'A Cloudflare container sleeps after 10 minutes without a request and keeps no files; PARALLEL_CC_CF_KEEPALIVE_SECONDS sets how often a running CLI keeps it awake.' } : undefined;
  }

  /** The kit's view of one sandbox: commands from /workspace, files read byte-exact. */
  private shell(sandbox: SandboxHandle): RemoteShell {
    return {
      execute: (req) => this.execute(sandbox, { cwd: BRIDGE_ROOT, ...req }),
      readFile: (path) => readExact(this.box(sandbox.id), path).catch(() => undefined),
    };
  }

  async followLog(sandbox: SandboxHandle, name: string, opts: { fromLine: number; onLine: (line: string) => void; signal: AbortSignal }): Promise<{ exitCode: number | null }> {
    return followKeptLog(this.shell(sandbox), logFiles(name), opts);
  }

  async isRunning(sandbox: SandboxHandle, name: string): Promise<boolean> {
    return keptLogRunning(this.shell(sandbox), logFiles(name));
  }

  /** Live numbers from inside the container (cgroup memory, /workspace disk use, processes); limits of the instance type. */
  async stats(sandbox: SandboxHandle): Promise<SandboxStats> {
    const handle = this.execute(sandbox, { argv: ['sh', '-c', STATS_SCRIPT], cwd: BRIDGE_ROOT, collect: true });
    let text = '';
    for await (const c of handle) if (c.stream === 'stdout') text += c.data.toString('utf8');
    await handle.wait();
    const v = (k: string): number | undefined => {
      const m = new RegExp(`^${k} (\\d+)$`, 'm').exec(text)?.[1];
      return m === undefined ? undefined : Number(m);
    };
    const [, mem, disk] = INSTANCE_TYPES[this.config.instanceType];
    const stats: SandboxStats = { keyProtection: this.keyProtection(), memoryLimitBytes: v('max') ?? mem * 2 ** 30, diskLimitBytes: disk * 1e9 };
    for (const [key, name] of [['memoryBytes', 'mem'], ['diskBytes', 'disk'], ['pids', 'pids']] as const) {
      const n = v(name);
      if (n !== undefined) stats[key] = n;
    }
    return stats;
  }
}
