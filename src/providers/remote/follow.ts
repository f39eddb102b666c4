import type { ExecHandle, ExecRequest } from '../provider.js';
import type { KeptLogFiles } from './kept-log.js';

/**
 * The two primitives {@link followKeptLog} and {@link keptLogRunning} need from a remote provider:
 * start a command in the sandbox (its own `execute`, with stdout streamed) and read a small file.
 */
export interface RemoteShell {
  /** Starts a command in the sandbox (the provider's `execute`, bound to one sandbox and a cwd). */
  execute(req: ExecRequest): ExecHandle;
  /** A file's bytes inside the sandbox; undefined when it cannot be read (not there yet, gone). */
  readFile(path: string): Promise<Buffer | undefined>;
}

/**
 * Follows a kept command's log from line `fromLine` (1-based) until the command ends (tail exits by
 * itself once the command's process group leader is gone) or `signal` aborts; a command that never
 * wrote its pid is read once. Returns the exit code the command wrote, null if it wrote none.
 */
export async function followKeptLog(
  shell: RemoteShell,
  files: KeptLogFiles,
  opts: { fromLine: number; onLine: (line: string) => void; signal: AbortSignal },
): Promise<{ exitCode: number | null }> {
  const pid = ((await shell.readFile(files.pid)) ?? Buffer.from('')).toString().trim();
  const live = /^\d+$/.test(pid);
  const argv = live ? ['tail', '-n', `+${Math.max(1, opts.fromLine)}`, `--pid=${pid}`, '-F', files.out] : ['cat', files.out];
  const follow = shell.execute({ argv });
  const stop = (): void => void follow.kill();
  opts.signal.addEventListener('abort', stop, { once: true });
  let rest = '';
  try {
    for await (const chunk of follow) {
      if (chunk.stream !== 'stdout') continue;
      const lines = (rest + chunk.data.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      lines.forEach(opts.onLine);
    }
    if (rest) opts.onLine(rest);
  } finally {
    opts.signal.removeEventListener('abort', stop);
  }
  const exit = await shell.readFile(files.exit);
  const code = exit ? Number(exit.toString().trim()) : NaN;
  return { exitCode: Number.isInteger(code) ? code : null };
}

/** Running: the kept command wrote its pid, has not written its exit code, and that process is still there. */
export async function keptLogRunning(shell: Pick<RemoteShell, 'execute'>, files: KeptLogFiles): Promise<boolean> {
  const handle = shell.execute({ collect: true, argv: ['sh', '-c', 'test ! -e "$1" && kill -0 "$(cat "$2")"', 'sh', files.exit, files.pid] });
  for await (const chunk of handle) void chunk;
  return (await handle.wait()).exitCode === 0;
}
