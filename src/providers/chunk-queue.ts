import type { ExecChunk } from './provider.js';

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
