import { randomBytes } from 'node:crypto';
import type { CommandHandle, Sandbox } from 'e2b';
import { GracefulExecHandle } from '../chunk-queue.js';
import type { ExecChunk, ExecExit, ExecRequest } from '../provider.js';
import { commandScript, keptLogFiles, killGroupScript, type KeptLogFiles, type ScriptFiles } from '../remote/kept-log.js';
import { shellJoin } from '../remote/quote.js';

/** The provider's private folder inside the sandbox (stdin files, kept logs, collected output). */
export const STATE_DIR = '/home/user/.parallel-cc';

/** Paths of a kept log (see ExecRequest.logName). */
export function logFiles(name: string): KeptLogFiles {
  return keptLogFiles(STATE_DIR, name);
}

/** A command result from the SDK, whether it exited 0 (value) or not (CommandExitError). */
function exitOf(e: unknown): number | null {
  const code = (e as { exitCode?: unknown }).exitCode;
  return typeof code === 'number' ? code : null;
}

/** envd's names of the signals a command can die of (Go's `signal: killed`…), as Node names them. */
const GO_SIGNALS: Record<string, string> = { killed: 'SIGKILL', terminated: 'SIGTERM', interrupt: 'SIGINT', hangup: 'SIGHUP', aborted: 'SIGABRT', 'segmentation fault': 'SIGSEGV', 'broken pipe': 'SIGPIPE' };

/**
 * A command that died of a signal ends with exit code -1 and `error: "signal: <name>"`; the port
 * reports that as the signal (exit code null), as the local providers do.
 */
function signalOf(e: unknown): string | null {
  const error = (e as { error?: unknown }).error;
  const m = /^signal: (.+)$/.exec(typeof error === 'string' ? error.trim() : '');
  if (!m?.[1] || (e as { exitCode?: unknown }).exitCode !== -1) return null;
  return m[1].startsWith('SIG') ? m[1] : (GO_SIGNALS[m[1]] ?? `SIG${m[1].toUpperCase()}`);
}

/**
 * An {@link ExecHandle} over an E2B command: output arrives through the SDK's stdout/stderr
 * callbacks (already decoded as a stream, so UTF-8 is never split), or — in collect mode — is read
 * back byte-exact from a file once the command ends. `kill` signals the command's whole process
 * group (envd alone would reach only its pid).
 */
export class E2BExecHandle extends GracefulExecHandle {
  protected readonly exit: Promise<ExecExit>;
  private command: CommandHandle | undefined;
  private readonly files: ScriptFiles;

  constructor(
    private readonly sbx: Sandbox,
    req: ExecRequest & { cwd: string },
    private readonly onError: (e: unknown) => Error,
  ) {
    super();
    const id = randomBytes(6).toString('hex');
    this.files = {
      ...(req.stdin !== undefined && req.stdin.length > 0 ? { stdin: `${STATE_DIR}/${id}.in` } : {}),
      ...(req.collect && !req.logName ? { stdout: `${STATE_DIR}/${id}.out` } : {}),
      ...(req.logName ? { log: logFiles(req.logName) } : {}),
    };
    this.exit = this.settle(this.run(req));
  }

  private push(stream: ExecChunk['stream'], data: string | Buffer): void {
    if (data.length > 0) this.out.push({ stream, data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data });
  }

  private async run(req: ExecRequest & { cwd: string }): Promise<ExecExit> {
    const { stdin, stdout } = this.files;
    try {
      if (stdin && req.stdin !== undefined) await this.sbx.files.write(stdin, typeof req.stdin === 'string' ? req.stdin : new Blob([new Uint8Array(req.stdin)]));
      if (this.killed) return { exitCode: 137, signal: 'SIGKILL' };
      this.command = await this.sbx.commands.run(commandScript(req.argv, this.files), {
        background: true,
        cwd: req.cwd,
        envs: req.env ?? {},
        // The SDK's default would end any command after 60 s; the orchestrator enforces --timeout.
        timeoutMs: 0,
        onStdout: (d) => this.push('stdout', d),
        onStderr: (d) => this.push('stderr', d),
      });
      if (this.killed) await this.stop();
      let exitCode: number | null;
      let signal: string | null = null;
      try {
        exitCode = (await this.command.wait()).exitCode;
      } catch (e) {
        exitCode = exitOf(e);
        if (exitCode === null && !this.killed) throw e;
        signal = signalOf(e);
        if (signal) exitCode = null;
      }
      if (stdout && !this.killed) this.push('stdout', Buffer.from(await this.sbx.files.read(stdout, { format: 'bytes' })));
      if (this.killed) return { exitCode: exitCode ?? 137, signal: 'SIGKILL' };
      return { exitCode, signal };
    } catch (e) {
      this.push('stderr', `${this.onError(e).message}\n`);
      return { exitCode: this.killed ? 137 : 125, signal: this.killed ? 'SIGKILL' : null };
    } finally {
      const leftovers = [stdin, stdout].filter((p): p is string => p !== undefined);
      if (leftovers.length > 0) await this.sbx.commands.run(shellJoin(['rm', '-f', '--', ...leftovers]), { timeoutMs: 30_000 }).catch(() => undefined);
    }
  }

  /**
   * envd's kill reaches only the pid: the command's process group first (every command runs in a
   * session of its own whose id is its pid; a kept command also wrote it down), then the command.
   */
  protected async stop(): Promise<void> {
    const pid = this.command?.pid;
    const log = this.files.log;
    const group = log ? { pidFile: log.pid } : pid !== undefined ? { pid } : undefined;
    if (group) await this.sbx.commands.run(killGroupScript(group), { timeoutMs: 30_000 }).catch(() => undefined);
    await this.command?.kill().catch(() => false);
  }

}
