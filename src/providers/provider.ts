import type { ProviderName } from '../config/schema.js';
import { roundUsd } from '../core/pricing.js';
import type { Credential } from '../core/net/api-broker.js';

/** What a provider can and cannot do; callers branch on these, never on the provider's name. */
export interface ProviderCapabilities {
  /** The sandbox filesystem lives on this machine (results can be read after the CLI dies). */
  localFilesystem: boolean;
  /** Network egress is forced through parallel-cc's per-session proxy. */
  egressControlled: boolean;
  /**
   * The sandbox can reach host unix sockets (local providers), so the credential broker works even
   * where egress is not controlled (docker with a bridge network). Defaults to egressControlled.
   */
  hostBridges?: boolean;
  /** The sandbox survives the CLI process (cloud sandboxes), so a later CLI can reattach. */
  survivesCli: boolean;
  /** CPU/memory/pids limits are enforced. */
  resourceLimits: boolean;
  /**
   * The sandbox brings its own agent (a cloud template with Claude Code installed) instead of the
   * host's binary being mounted in; such an agent is updated before the run unless told not to.
   */
  agentInstalled?: boolean;
  /** A node package agent from the host (`AgentInstall` kind `package`) can be mounted and run with the sandbox's node. */
  packageAgents?: boolean;
  /** What the sandbox costs while it exists (cloud providers bill by time). */
  pricing?: SandboxPricing;
  /** The most a sandbox accepts as its upload (E2B, spec 000): a bigger plan is refused before a sandbox exists. */
  uploadLimits?: { maxBytes: number; maxFiles: number };
  /** The agent's working folder is ours to pick (`SandboxSpec.workdir`, `--working-dir`); others fix it. */
  workdirChoice?: boolean;
  /** {@link ExecRequest.then} is honoured (local sandboxes, through init.cjs). */
  chainedExec?: boolean;
}

/** Time-based billing of a sandbox (E2B: $0.10/hour, per second, one-minute minimum). */
export interface SandboxPricing {
  usdPerHour: number;
  minimumSeconds: number;
}

/** Estimated cost of a sandbox that has existed for `seconds`. */
export function sandboxCost(pricing: SandboxPricing, seconds: number): number {
  return roundUsd((Math.max(Math.ceil(seconds), pricing.minimumSeconds) * pricing.usdPerHour) / 3600);
}

/** Host-side endpoints a sandbox must expose to the agent (unix sockets on this machine). */
export interface SandboxBridges {
  /** The credential broker in front of the model API. */
  apiSocket?: string;
  /** The egress proxy (HTTP CONNECT + plain HTTP). */
  egressSocket?: string;
  /** Credential forwarders (`--npm-token`, `--github-token`): name → host socket, bridged to a loopback port like the broker. */
  forwards?: Partial<Record<'npm' | 'git', string>>;
  /** The session's filtering ssh-agent relay (`--ssh-key`), mounted as a socket (SSH_AUTH_SOCK). */
  sshAgentSocket?: string;
}

/**
 * The session's egress policy for providers that enforce it themselves (E2B's network rules):
 * the model API (reachable, with the real credential added on the way) and the allowed domains.
 */
export interface SandboxEgress {
  apiUrl: string;
  credential: Credential;
  allowDomains: string[];
}

/** Everything a provider needs to create one session's sandbox. */
export interface SandboxSpec {
  sessionId: string;
  /**
   * The session's private sandbox folder on the host (core/sandbox-dir.ts: a random name under a
   * neutral root), where local providers keep everything they mount. Cloud providers ignore it.
   */
  sandboxDir?: string;
  bridges: SandboxBridges;
  /** Egress policy (given to providers without host bridges; local ones use `bridges`). */
  egress?: SandboxEgress;
  /** The agent binary on the host (bound read-only into local sandboxes). */
  agentBinary?: string;
  /** Its name in the sandbox, `/opt/bin/<agentName>` (the agent's `mountName`); default `claude`. */
  agentName?: string;
  /**
   * A node package agent on the host (providers with `packageAgents`): the folder is mounted
   * read-only as `/opt/parallel-cc/pkg/<agentName>`; `agentPath` is then its `entry` there.
   */
  agentPackage?: { dir: string; entry: string };
  labels: Record<string, string>;
  /** The agent's working folder (providers with `workdirChoice`; validated by core/run-options/checks.ts). Default: the provider's. */
  workdir?: string;
  /**
   * How long the sandbox may live at most, in minutes. Cloud sandboxes are billed by time and end
   * by themselves after it, so a sandbox whose CLI died does not run up costs forever.
   */
  lifetimeMinutes?: number;
}

/** A created sandbox. */
export interface SandboxHandle {
  /** Provider-specific id, recorded in the registry. */
  id: string;
  provider: ProviderName;
  /** The agent's working folder inside the sandbox. */
  workdir: string;
  /** Home folder of the sandbox user. */
  homedir: string;
  /** Path of the agent binary inside the sandbox (a package agent: its entry script). */
  agentPath: string;
  /** How the sandbox runs node (an argv prefix), where it can run a package agent. */
  nodeArgv?: string[];
  /** Where the agent reaches the bridges from inside (e.g. http://127.0.0.1:43127). */
  endpoints: { api?: string; proxy?: string; forwards?: Partial<Record<'npm' | 'git', string>>; sshAuthSock?: string };
  /** When the sandbox ends by itself (epoch ms; cloud sandboxes have a lifetime), if it does. */
  expiresAt?: number;
  /** The credential the agent gets when the provider adds the real one on egress (a placeholder). */
  agentCredential?: Credential;
  /** Warnings of the creation that the run reports (e.g. the key is inside the sandbox). */
  warnings?: string[];
}

/** One command to run inside a sandbox. */
export interface ExecRequest {
  argv: readonly string[];
  env?: Record<string, string>;
  /** Defaults to the sandbox workdir. */
  cwd?: string;
  stdin?: string | Buffer;
  /** Start the network bridges for this command (the agent needs them; git plumbing does not). */
  network?: boolean;
  /**
   * The caller only needs the output at the end, byte-exact (git archives, patch series): providers
   * whose transport is text may deliver stdout in one piece after the command ends.
   */
  collect?: boolean;
  /**
   * Keep a copy of this command's stdout inside the sandbox under this name, so that another CLI
   * process can follow it with {@link SandboxProvider.followLog} (providers whose sandboxes survive the CLI).
   */
  logName?: string;
  /**
   * Commands for the same sandbox command (capability `chainedExec`): once the first has exited by
   * itself each runs in turn, with exactly the sandbox's base environment plus its `env` and no
   * stdin, and their exits and outputs follow on stdout as one trailer after `mark`
   * (core/exec-trailer.ts). Round trips less (the agent, then collecting its work).
   */
  then?: { steps: ReadonlyArray<{ argv: readonly string[]; env?: Record<string, string> }>; mark: string };
}

/** A chunk of output from a running command. */
export interface ExecChunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

/** How a command ended. */
export interface ExecExit {
  exitCode: number | null;
  signal: string | null;
}

/**
 * A running command: iterate it for output as it arrives, await {@link ExecHandle.wait} for the
 * exit, call {@link ExecHandle.kill} to stop it (idempotent).
 */
export interface ExecHandle extends AsyncIterable<ExecChunk> {
  wait(): Promise<ExecExit>;
  kill(): Promise<void>;
}

/** Options of {@link SandboxProvider.upload}. */
export interface UploadOptions {
  /** Called as the upload advances (bytes of file content sent so far, of `total`). */
  onProgress?: (sent: number, total: number) => void;
}

/** Files from the host to place into the sandbox workdir. */
export interface UploadSource {
  root: string;
  files: ReadonlyArray<{ path: string; kind: 'file' | 'symlink'; size: number }>;
}

/**
 * The port every sandbox backend implements (spec 001): create, upload, execute as a stream,
 * download, destroy. A new provider is a folder under src/providers plus one line in registry.ts.
 */
export interface SandboxProvider {
  readonly name: ProviderName;
  readonly capabilities: ProviderCapabilities;
  /** Fails with an 'environment' AppError and a fix when the backend is not usable here. */
  checkAvailable(): Promise<void>;
  create(spec: SandboxSpec): Promise<SandboxHandle>;
  upload(sandbox: SandboxHandle, source: UploadSource, opts?: UploadOptions): Promise<{ files: number; bytes: number }>;
  execute(sandbox: SandboxHandle, req: ExecRequest): ExecHandle;
  /**
   * One command in a sandbox made for it alone (`sandbox exec`), the command being the sandbox's own
   * process: fewer round trips than create + execute + destroy. Resolves once the command is started
   * (`upload`, when given, is in the workdir before); rejects like {@link create}. The sandbox is
   * removed by the time the handle's `wait()` resolves; the caller still removes the sandbox folder.
   */
  runOnce?(spec: SandboxSpec, req: ExecRequest, opts?: { upload?: UploadSource }): Promise<ExecHandle>;
  /** Reads one file from inside the sandbox. */
  download(sandbox: SandboxHandle, path: string): Promise<Buffer>;
  /** Tears the sandbox down; idempotent. */
  destroy(sandbox: SandboxHandle, opts?: { keep?: boolean }): Promise<void>;
  /**
   * Re-opens a sandbox recorded in the registry (by its id) from another CLI process: `logs --follow`,
   * `download`, `kill`, `reattach` and `cleanup` use it. Undefined when sandboxes do not outlive their
   * CLI; resolves to undefined when the sandbox is gone.
   */
  reconnect?(sandboxId: string, session: { sessionId: string; sandboxDir?: string }): Promise<SandboxHandle | undefined>;
  /** Live resource numbers for `sandbox health` (real ones: cgroup, docker stats, SDK metrics). */
  stats?(sandbox: SandboxHandle): Promise<SandboxStats>;
  /** Which key protection new sessions of this provider get, in one line (doctor). */
  keyProtection?(): string;
  /**
   * Resource-limit hits so far (out-of-memory kills, pids limit reached), so the run can say
   * "killed: out of memory (limit 2g)" instead of a bare exit code. `note` explains missing limits.
   */
  limitEvents?(sandbox: SandboxHandle): Promise<LimitReport>;
  /**
   * Follows a command's stdout kept with {@link ExecRequest.logName} from line `fromLine` (1-based)
   * until that command ends or `signal` aborts; resolves to the command's exit code when known.
   */
  followLog?(sandbox: SandboxHandle, name: string, opts: { fromLine: number; onLine: (line: string) => void; signal: AbortSignal }): Promise<{ exitCode: number | null }>;
  /** Whether the command kept under `name` ({@link ExecRequest.logName}) is still running. */
  isRunning?(sandbox: SandboxHandle, name: string): Promise<boolean>;
  /**
   * Why the sandbox is not usable any more (its container stopped…), or undefined while it is fine:
   * a failed command is then reported as the sandbox's failure, not the agent's.
   */
  diagnose?(sandbox: SandboxHandle): Promise<{ message: string; hint?: string } | undefined>;
  /**
   * The folder on this machine that is the sandbox's workdir, where it is one (native bind-mounts
   * it): the sandbox repo is then made there by the host, a sandbox round trip less — only while
   * nothing agent-controlled is in it yet (core/sandbox-repo.ts).
   */
  hostWorkdir?(sandbox: SandboxHandle): string | undefined;
  /** Sandboxes of this provider carrying parallel-cc labels, for orphan cleanup. */
  listSandboxes?(): Promise<Array<{ id: string; labels: Record<string, string>; running: boolean }>>;
}

/** Limit hits of a sandbox (see {@link SandboxProvider.limitEvents}). */
export interface LimitReport {
  oomKills: number;
  pidsLimitHits: number;
  memoryLimit: string;
  pidsLimit: number;
  note?: string;
}

/** Resource usage of a sandbox; a field is undefined where the backend cannot tell. */
export interface SandboxStats {
  uptimeMs?: number;
  cpuPercent?: number;
  memoryBytes?: number;
  memoryLimitBytes?: number;
  diskBytes?: number;
  diskLimitBytes?: number;
  pids?: number;
  /** How the model API key is protected in this sandbox (cloud providers without host bridges). */
  keyProtection?: string;
}

/** Runs a command to completion, collecting its output. */
export async function execCollect(
  provider: SandboxProvider,
  sandbox: SandboxHandle,
  req: ExecRequest,
): Promise<ExecExit & { stdout: Buffer; stderr: string }> {
  const handle = provider.execute(sandbox, { collect: true, ...req });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  for await (const chunk of handle) (chunk.stream === 'stdout' ? out : err).push(chunk.data);
  const exit = await handle.wait();
  return { ...exit, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') };
}
