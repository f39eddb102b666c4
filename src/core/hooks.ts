import type { ExecHandle, SandboxHandle, SandboxProvider } from '../providers/provider.js';
import { AppError } from '../errors.js';
import { LineSplitter, type StreamEvent } from './events.js';

/** The lifecycle hooks of a run, all run inside the sandbox (spec 000's --on-success / --on-failure). */
export type HookName = 'packages' | 'setup' | 'on_success' | 'on_failure';

/** The hook commands of a run (shell command lines the user wrote) and their time limit. */
export interface RunHooks {
  /** A template's package install, before setup; best effort (a failure is a warning). */
  packages?: string;
  /** Before the agent (e.g. `npm ci`); its changes are the environment, not the agent's work. */
  setup?: string;
  /** After an agent that completed (e.g. `npm test && npm run build`); a failure fails the session. */
  onSuccess?: string;
  /** After an agent that did not complete (e.g. collecting logs); its exit code is only recorded. */
  onFailure?: string;
  /** Each hook's own limit, minutes. */
  timeoutMinutes: number;
}

/** What one hook did (the registry's `hooks` column, the summary, --multi's metadata). */
export interface HookResult {
  hook: HookName;
  command: string;
  /** null when it was stopped (timeout, Ctrl-C) or died of a signal. */
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
}

/** The variables a hook gets: the egress proxy where the sandbox has one, never a model key. */
export function hookEnv(proxyUrl: string | undefined): Record<string, string> {
  if (!proxyUrl) return {};
  return { HTTPS_PROXY: proxyUrl, HTTP_PROXY: proxyUrl, https_proxy: proxyUrl, http_proxy: proxyUrl, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' };
}

/**
 * Runs one hook in the sandbox's workspace with `sh -c` (a hook is a command line by definition:
 * the shell is the boundary the user asked for) and streams its output as `hook` events. It never
 * runs on the host. Stopped at its timeout or when `signal` aborts.
 */
export async function runHook(
  provider: SandboxProvider,
  sandbox: SandboxHandle,
  hook: HookName,
  command: string,
  opts: { env: Record<string, string>; timeoutMinutes: number; signal: AbortSignal; now: () => number; emit: (e: StreamEvent) => void },
): Promise<HookResult> {
  const started = opts.now();
  opts.emit({ type: 'phase', phase: 'hook', message: `running ${hook}: ${command}` });
  const handle: ExecHandle = provider.execute(sandbox, { argv: ['sh', '-c', command], env: opts.env, network: true });
  let timedOut = false;
  const stop = (): void => void handle.kill().catch(() => undefined);
  const timer = setTimeout(
    () => {
      timedOut = true;
      stop();
    },
    Math.max(1, opts.timeoutMinutes * 60_000),
  );
  opts.signal.addEventListener('abort', stop, { once: true });
  const split = { stdout: new LineSplitter(), stderr: new LineSplitter() };
  const line = (stream: 'stdout' | 'stderr', text: string): void => opts.emit({ type: 'hook', hook, stream, text });
  try {
    for await (const chunk of handle) for (const l of split[chunk.stream].push(chunk.data)) line(chunk.stream, l.replace(/\r$/, ''));
    for (const stream of ['stdout', 'stderr'] as const) for (const l of split[stream].flush()) line(stream, l);
    const exit = await handle.wait();
    const stopped = timedOut || opts.signal.aborted;
    const result: HookResult = { hook, command, exitCode: stopped ? null : exit.exitCode, timedOut, durationMs: opts.now() - started };
    const how = timedOut ? `stopped after its ${opts.timeoutMinutes}-minute timeout` : opts.signal.aborted ? 'stopped' : `exited with code ${String(exit.exitCode ?? exit.signal)}`;
    opts.emit({ type: 'phase', phase: 'hook', message: `${hook} ${how} (${(result.durationMs / 1000).toFixed(1)} s)` });
    return result;
  } finally {
    clearTimeout(timer);
    opts.signal.removeEventListener('abort', stop);
  }
}

/** A hook that did not succeed, as the failure message: "check failed: `npm test` exited with code 3". */
export function hookFailure(r: HookResult): string | undefined {
  if (r.exitCode === 0) return undefined;
  const what = r.hook === 'setup' ? 'setup failed' : r.hook === 'packages' ? 'package install failed' : 'check failed';
  return `${what}: \`${r.command}\` ${r.timedOut ? 'timed out' : r.exitCode === null ? 'was stopped' : `exited with code ${r.exitCode}`}`;
}

/**
 * The hooks of one run: each runs in the run's sandbox with the proxy env and the run's limit, and
 * every result is recorded (`record`, the registry row) as it ends, so a crash still leaves what ran.
 */
export function hookRunner(opts: {
  provider: SandboxProvider;
  sandbox: () => SandboxHandle | undefined;
  timeoutMinutes: number;
  signal: AbortSignal;
  now: () => number;
  emit: (e: StreamEvent) => void;
  record: (results: readonly HookResult[]) => void;
  hooks?: RunHooks;
  /** More variables for every hook (a template's env). */
  env?: Record<string, string>;
}): {
  run(hook: HookName, command: string): Promise<HookResult>;
  /** Before the agent: the template's packages (a failure is a warning), then setup (a failure stops the run). */
  beforeAgent(): Promise<void>;
  /**
   * After the agent: with a check to run, the results are collected first (`collect`), so the check
   * sees exactly them and its own writes never land; a failing --on-success is the run's failure.
   */
  afterAgent(completed: boolean, killed: boolean, collect: () => Promise<Buffer>): Promise<{ mbox?: Buffer; checkFailure?: AppError }>;
  results: HookResult[];
} {
  const results: HookResult[] = [];
  const runner = {
    results,
    async beforeAgent(): Promise<void> {
      const h = opts.hooks;
      if (h?.packages) {
        const r = await runner.run('packages', h.packages);
        if (r.exitCode !== 0)
          opts.emit({ type: 'warning', message: `the template's packages could not be installed (${hookFailure(r) ?? 'failed'}); the agent runs without them. Allow their registry with --allow-domain, or use an image that has them.` });
      }
      if (!h?.setup) return;
      const r = await runner.run('setup', h.setup);
      if (r.exitCode !== 0) throw new AppError('environment', hookFailure(r) ?? 'setup failed', { hint: 'The agent did not run. Fix the --setup command (its output is in the log: `parallel-cc sandbox logs <id>`).' });
    },
    async afterAgent(completed: boolean, killed: boolean, collect: () => Promise<Buffer>): Promise<{ mbox?: Buffer; checkFailure?: AppError }> {
      const check = completed ? opts.hooks?.onSuccess : killed ? undefined : opts.hooks?.onFailure;
      if (!check) return {};
      const mbox = await collect();
      const r = await runner.run(completed ? 'on_success' : 'on_failure', check);
      if (r.hook !== 'on_success' || r.exitCode === 0) return { mbox };
      return { mbox, checkFailure: new AppError('agent', hookFailure(r) ?? 'check failed', { hint: "The agent's work is on the branch; the check's output is in the log (`parallel-cc sandbox logs <id>`)." }) };
    },
    async run(hook: HookName, command: string): Promise<HookResult> {
      const sandbox = opts.sandbox();
      if (!sandbox) throw new Error(`the ${hook} hook needs a sandbox`);
      const r = await runHook(opts.provider, sandbox, hook, command, { env: { ...(opts.env ?? {}), ...hookEnv(sandbox.endpoints.proxy) }, timeoutMinutes: opts.timeoutMinutes, signal: opts.signal, now: opts.now, emit: opts.emit });
      results.push(r);
      opts.record(results);
      return r;
    },
  };
  return runner;
}
