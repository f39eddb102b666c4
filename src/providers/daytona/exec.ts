import { randomBytes } from 'node:crypto';
import type { Sandbox } from '@daytonaio/sdk';
import { GracefulExecHandle } from '../chunk-queue.js';
import type { ExecChunk, ExecExit, ExecRequest } from '../provider.js';
import { commandScript, keptLogFiles, killGroupScript, type KeptLogFiles, type ScriptFiles } from '../remote/kept-log.js';
import { shellJoin, shellQuote } from '../remote/quote.js';

/** How often the end of a command is asked for once its log stream closed. */
const STATUS_POLL_MS = 250;
/** The longest wait between two such questions. */
const STATUS_POLL_MAX_MS = 5_000;
/** How often the env is offered to a command whose input pipe is not there yet. */
const INPUT_ATTEMPTS = 20;

/** Paths of a kept log (see ExecRequest.logName) in the provider's private folder. */
export function logFiles(stateDir: string, name: string): KeptLogFiles {
  return keptLogFiles(stateDir, name);
}

/**
 * Reads the command's environment from the session's stdin before anything else runs: one
 * `NAME=<base64 value>` line per variable, then an empty line. The values travel over the input
 * pipe (sent with echo suppressed, so never in the session log) and are exported by shell builtins:
 * they are in no file and in no process's argv, only in the environment of the command.
 */
// The `x` keeps the value's trailing newlines, which a command substitution would strip.
const ENV_PRELUDE = 'while IFS= read -r __pcc_kv && [ -n "$__pcc_kv" ]; do __pcc_v=$(printf %s "${__pcc_kv#*=}" | base64 -d; echo x); export "${__pcc_kv%%=*}=${__pcc_v%x}"; done; unset __pcc_kv __pcc_v; ';

/** The input that feeds {@link ENV_PRELUDE}. */
export function envInput(env: Record<string, string>): string {
  return `${Object.entries(env).map(([k, v]) => `${k}=${Buffer.from(v, 'utf8').toString('base64')}`).join('\n')}\n\n`;
}

/**
 * The session command of one request: a `bash -c` of its own (a Daytona session sources each
 * command in its shell, where an `exec` would replace that shell and no exit code would ever be
 * written), reading its env first, in its cwd, its pid written down (the group to kill), then the
 * remote kit's command script.
 */
export function sessionCommand(req: ExecRequest & { cwd: string }, files: ScriptFiles, pidFile: string): string {
  const env = req.env && Object.keys(req.env).length > 0 ? ENV_PRELUDE : '';
  for (const k of Object.keys(req.env ?? {})) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`invalid environment variable name: ${k}`);
  // The pid first: a command whose env never arrives can still be killed.
  return shellJoin(['bash', '-c', `echo $$ > ${shellQuote(pidFile)}; ${env}cd ${shellQuote(req.cwd)} || exit 125; ${commandScript(req.argv, files)}`]);
}

/**
 * An {@link ExecHandle} over a Daytona process session: one session per command, started with
 * `runAsync`, its output streamed by following the command's logs (a WebSocket), its end read from
 * the command's status. In collect mode stdout goes to a file read back byte-exact (session logs
 * are labelled lines, not bytes). `kill` signals the command's process group.
 */
export class DaytonaExecHandle extends GracefulExecHandle {
  protected readonly exit: Promise<ExecExit>;
  private readonly sessionId = `pcc-${randomBytes(8).toString('hex')}`;
  private readonly files: ScriptFiles;
  private readonly pidFile: string;

  constructor(
    private readonly sbx: Sandbox,
    private readonly stateDir: string,
    req: ExecRequest & { cwd: string },
    private readonly onError: (e: unknown) => Error,
  ) {
    super();
    const id = this.sessionId;
    this.pidFile = `${stateDir}/${id}.pid`;
    this.files = {
      ...(req.stdin !== undefined && req.stdin.length > 0 ? { stdin: `${stateDir}/${id}.in` } : {}),
      ...(req.collect && !req.logName ? { stdout: `${stateDir}/${id}.out` } : {}),
      ...(req.logName ? { log: logFiles(stateDir, req.logName) } : {}),
    };
    this.exit = this.settle(this.run(req));
  }

  private push(stream: ExecChunk['stream'], data: string | Buffer): void {
    if (data.length > 0) this.out.push({ stream, data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data });
  }

  private async run(req: ExecRequest & { cwd: string }): Promise<ExecExit> {
    const { stdin, stdout } = this.files;
    let session = false;
    try {
      if (stdin && req.stdin !== undefined) await this.sbx.fs.uploadFile(Buffer.isBuffer(req.stdin) ? req.stdin : Buffer.from(req.stdin, 'utf8'), stdin);
      if (this.killed) return { exitCode: 137, signal: 'SIGKILL' };
      await this.sbx.process.createSession(this.sessionId);
      session = true;
      const command = sessionCommand(req, this.files, this.pidFile);
      const { cmdId } = await this.sbx.process.executeSessionCommand(this.sessionId, { command, runAsync: true, suppressInputEcho: true });
      if (req.env && Object.keys(req.env).length > 0) {
        await this.sendEnv(cmdId, req.env).catch(async (e: unknown) => {
          // It would wait for its env forever.
          await this.sbx.process.executeCommand(`kill -KILL "$(cat ${shellQuote(this.pidFile)})"`, undefined, undefined, 30).catch(() => undefined);
          throw e;
        });
      }
      if (this.killed) await this.stop();
      // The stream ends when the command does, or when the connection breaks: the status says which.
      await this.sbx.process
        .getSessionCommandLogs(this.sessionId, cmdId, (d) => this.push('stdout', d), (d) => this.push('stderr', d))
        .catch(() => undefined);
      let exitCode: number | undefined;
      // Usually the command has ended and the first answer says so. After a broken stream it may run
      // on for many minutes: the wait grows to 5 s, not a request every 250 ms for the rest of the run.
      for (let wait = STATUS_POLL_MS; (exitCode = (await this.sbx.process.getSessionCommand(this.sessionId, cmdId)).exitCode) === undefined; wait = Math.min(wait * 2, STATUS_POLL_MAX_MS))
        await new Promise((r) => setTimeout(r, wait));
      if (stdout && !this.killed) this.push('stdout', await this.sbx.fs.downloadFile(stdout));
      if (this.killed) return { exitCode, signal: 'SIGKILL' };
      return { exitCode, signal: null };
    } catch (e) {
      this.push('stderr', `${this.onError(e).message}\n`);
      return { exitCode: this.killed ? 137 : 125, signal: this.killed ? 'SIGKILL' : null };
    } finally {
      const leftovers = [stdin, stdout, this.pidFile].filter((p): p is string => p !== undefined);
      await Promise.all([
        this.sbx.process.executeCommand(shellJoin(['rm', '-f', '--', ...leftovers]), undefined, undefined, 30).catch(() => undefined),
        session ? this.sbx.process.deleteSession(this.sessionId).catch(() => undefined) : undefined,
      ]);
    }
  }

  /**
   * Sends the env over the command's input. The session runs the command's wrapper a moment after
   * `exec` answered, and its input pipe exists only from then on: until it does, input fails.
   */
  private async sendEnv(cmdId: string, env: Record<string, string>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.sbx.process.sendSessionCommandInput(this.sessionId, cmdId, envInput(env));
      } catch (e) {
        if (attempt >= INPUT_ATTEMPTS || (e as { statusCode?: number }).statusCode === 410) throw e;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  }

  /** The command's whole process group (its kept-log pid file, else the one the session command wrote). */
  protected async stop(): Promise<void> {
    const pidFile = this.files.log?.pid ?? this.pidFile;
    // Through bash: the toolbox runs a command with the sandbox's shell, which may be a sh whose kill takes no `--`.
    await this.sbx.process.executeCommand(shellJoin(['bash', '-c', killGroupScript({ pidFile })]), undefined, undefined, 30).catch(() => undefined);
  }

}
