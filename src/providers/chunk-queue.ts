import type { ExecChunk, ExecExit, ExecHandle } from './provider.js';

/**
 * Output of a running command, queued until its consumer reads it: producers `push` chunks and
 * `finish` once; the consumer iterates with `for await`. Shared by the exec handles of the providers.
 */
export class ChunkQueue implements AsyncIterable<ExecChunk> {
  private readonly queue: ExecChunk[] = [];
  private wake: (() => void) | undefined;
  private finished = false;

  /** Adds a chunk (ignored once finished). */
  push(chunk: ExecChunk): void {
    if (this.finished) return;
    this.queue.push(chunk);
    this.wake?.();
  }

  /** No more output will come; the iteration ends after the queued chunks. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.wake?.();
  }

  /** True once {@link ChunkQueue.finish} was called. */
  get done(): boolean {
    return this.finished;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ExecChunk> {
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.finished) return;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
}

/**
 * The common half of the providers' exec handles: output from a {@link ChunkQueue}, the exit from a
 * promise the subclass sets up; the subclass knows how to start and kill its command.
 */
export abstract class QueuedExecHandle implements ExecHandle {
  protected readonly out = new ChunkQueue();
  protected abstract readonly exit: Promise<ExecExit>;

  [Symbol.asyncIterator](): AsyncIterator<ExecChunk> {
    return this.out[Symbol.asyncIterator]();
  }

  wait(): Promise<ExecExit> {
    return this.exit;
  }

  abstract kill(): Promise<void>;
}

/** How long a killed command may take to report its end before the handle stops waiting. */
export const KILL_GRACE_MS = 10_000;

/**
 * An exec handle over a remote command that a kill may never hear back from (a cloud sandbox that
 * is gone, a stream that never ends): `kill` stops the command, then waits for its end at most
 * {@link KILL_GRACE_MS} and reports SIGKILL if it never came. The subclass builds `exit` with
 * {@link GracefulExecHandle.settle} and knows how to stop its command.
 */
export abstract class GracefulExecHandle extends QueuedExecHandle {
  /** A kill was asked for: the command's own end, once it comes, is reported as SIGKILL. */
  protected killed = false;
  private giveUp: (exit: ExecExit) => void = () => undefined;

  /** The command's end, or the kill's when waiting was given up; the output is finished either way. */
  protected settle(run: Promise<ExecExit>): Promise<ExecExit> {
    return Promise.race([run, new Promise<ExecExit>((resolve) => (this.giveUp = resolve))]).finally(() => this.out.finish());
  }

  /** Stops the command (its whole process group); never throws. */
  protected abstract stop(): Promise<void>;

  /** Called when waiting for a killed command's end is given up (e.g. to abort a stream). */
  protected gaveUp(): void {}

  async kill(): Promise<void> {
    if (this.out.done) return;
    this.killed = true;
    await this.stop();
    const grace = setTimeout(() => {
      this.gaveUp();
      this.giveUp({ exitCode: 137, signal: 'SIGKILL' });
    }, KILL_GRACE_MS);
    await this.exit;
    clearTimeout(grace);
  }
}
