import type { Duplex } from 'node:stream';
import { QueuedExecHandle } from '../chunk-queue.js';
import type { ExecExit } from '../provider.js';
import { inspectExec } from './container-api.js';
import { demux, type Engine } from './engine.js';

/**
 * An {@link ExecHandle} over `docker exec`: output is demultiplexed into stdout/stderr chunks,
 * stdin is written and half-closed, the exit code comes from the exec's inspect. Docker has no
 * "kill this exec" call, so `kill` is handed in by the provider (it signals every process that
 * carries this exec's marker in its environment).
 */
export class DockerExecHandle extends QueuedExecHandle {
  protected readonly exit: Promise<ExecExit>;
  private killed = false;

  constructor(
    private readonly engine: Engine,
    start: Promise<{ execId: string; stream: Duplex }>,
    stdin: string | Buffer | undefined,
    private readonly killer: () => Promise<void>,
  ) {
    super();
    this.exit = start.then(
      ({ execId, stream }) =>
        new Promise<ExecExit>((resolve) => {
          demux(stream, (which, data) => this.out.push({ stream: which, data }));
          let finished = false;
          const finish = async (): Promise<void> => {
            if (finished) return;
            finished = true;
            // The output can end a moment before the daemon records the exit code.
            let code: number | null = null;
            for (let i = 0; i < 40; i++) {
              const info = await inspectExec(this.engine, execId).catch(() => undefined);
              if (!info || !info.Running) {
                code = info?.ExitCode ?? null;
                break;
              }
              await new Promise((r) => setTimeout(r, 50));
            }
            this.out.finish();
            resolve({ exitCode: code ?? (this.killed ? 137 : null), signal: this.killed ? 'SIGKILL' : null });
          };
          stream.on('end', () => void finish());
          stream.on('close', () => void finish());
          stream.on('error', () => undefined);
          if (stdin !== undefined && stdin.length > 0) stream.write(stdin);
          // Half-close: the daemon closes the process's stdin, the output side stays open.
          stream.end();
        }),
      (e: unknown) => {
        this.out.push({ stream: 'stderr', data: Buffer.from(`docker exec failed: ${(e as Error).message}\n`) });
        this.out.finish();
        return { exitCode: 125, signal: null };
      },
    );
  }

  async kill(): Promise<void> {
    if (this.out.done) return;
    this.killed = true;
    await this.killer().catch(() => undefined);
    await this.exit;
  }
}
