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
