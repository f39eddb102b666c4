import { spawn } from 'node:child_process';
import { QueuedExecHandle } from './chunk-queue.js';
import type { ExecChunk, ExecExit } from './provider.js';

/** How long output may still arrive after the process itself exited. */
const DRAIN_AFTER_EXIT_MS = 2000;

/**
 * An {@link ExecHandle} over a local child process (bwrap, docker). Output chunks are queued until
 * the consumer reads them; `wait()` resolves once the process has exited and its pipes are drained.
 */
export class ChildExecHandle extends QueuedExecHandle {
  protected readonly exit: Promise<ExecExit>;
  private readonly child;

  /**
   * @param opts.fds data for extra file descriptors 3, 4, … of the child (each a pipe written and
   *   closed at once), e.g. bwrap's `--args 3`.
   */
  constructor(argv: readonly string[], opts: { env: NodeJS.ProcessEnv; stdin?: string | Buffer; cwd?: string; fds?: readonly Buffer[] }) {
    super();
    const [cmd, ...args] = argv;
    const extra = opts.fds ?? [];
    this.child = spawn(cmd as string, args, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe', ...extra.map(() => 'pipe' as const)] });
    extra.forEach((data, i) => {
      const fd = this.child.stdio[3 + i] as import('node:stream').Writable | null;
      fd?.on('error', () => undefined);
      fd?.end(data);
    });
    const push = (stream: ExecChunk['stream']) => (data: Buffer) => this.out.push({ stream, data });
    this.child.stdout.on('data', push('stdout'));
    this.child.stderr.on('data', push('stderr'));
    this.child.stdin.on('error', () => undefined); // the command may exit before reading its input
    this.child.stdin.end(opts.stdin);
    this.exit = new Promise((resolve) => {
      this.child.on('error', (e) => {
        push('stderr')(Buffer.from(`failed to start ${String(cmd)}: ${e.message}\n`));
        this.out.finish();
        resolve({ exitCode: 127, signal: null });
      });
      this.child.on('close', (code, signal) => {
        this.out.finish();
        resolve({ exitCode: code, signal });
      });
      // 'close' waits for the output pipes, which a descendant that outlived the process can hold
      // forever: a sandbox whose bwrap was killed while still starting (before --die-with-parent
      // took effect) keeps running as an orphan. Stop waiting for it after a grace period; the
      // provider's destroy() kills such leftovers (native: everything in the session's cgroup).
      this.child.on('exit', () => {
        const drain = setTimeout(() => {
          this.child.stdout.destroy();
          this.child.stderr.destroy();
        }, DRAIN_AFTER_EXIT_MS);
        drain.unref();
        this.child.once('close', () => clearTimeout(drain));
      });
    });
  }

  /** PID of the local process (bwrap / docker client). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exit;
  }
}
