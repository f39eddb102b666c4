import { spawn, type SpawnOptions } from 'node:child_process';
import { AppError, type ErrorKind } from '../errors.js';

/** Result of a finished child process. */
export interface RunResult {
  stdout: Buffer;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/** Options for {@link run}. */
export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Exit codes that are not failures (default: only 0). */
  okCodes?: number[];
  /** Error kind used when the command fails (default: 'internal'). */
  errorKind?: ErrorKind;
  hint?: string;
  timeoutMs?: number;
}

const TAIL_CHARS = 2000;

/** Last part of a process's stderr, for error messages. */
export function tail(text: string, chars = TAIL_CHARS): string {
  const t = text.trim();
  return t.length > chars ? `…${t.slice(-chars)}` : t;
}

/**
 * Runs a command from an argv array (never a shell string) and collects its output. A failure names
 * the command, its exit code or signal, and the tail of its stderr.
 */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new AppError('internal', 'run() called with an empty argv');
  const spawnOpts: SpawnOptions = { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] };
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, spawnOpts);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      const missing = e.code === 'ENOENT';
      reject(
        new AppError(missing ? 'environment' : (opts.errorKind ?? 'internal'), `could not start ${cmd}: ${e.message}`, {
          cause: e,
          hint: missing ? `Install ${cmd} or put it on PATH (see \`parallel-cc doctor\`).` : opts.hint,
        }),
      );
    });
    child.stdin?.on('error', () => undefined); // the child may exit before reading all input
    child.stdin?.end(opts.input);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const result: RunResult = { stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), exitCode: code, signal };
      const ok = code !== null && (opts.okCodes ?? [0]).includes(code);
      if (ok) return resolve(result);
      const how = signal ? `was killed by ${signal}` : `exited with code ${String(code)}`;
      const stderrTail = tail(result.stderr);
      reject(
        new AppError(opts.errorKind ?? 'internal', `\`${argv.join(' ')}\` ${how}${stderrTail ? `: ${stderrTail}` : ''}`, {
          hint: opts.hint,
          details: { command: argv, exitCode: code, signal },
        }),
      );
    });
  });
}

/** Runs a command and returns its stdout as trimmed UTF-8 text. */
export async function runText(argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  return (await run(argv, opts)).stdout.toString('utf8').trim();
}
