import { afterEach, describe, expect, it, vi } from 'vitest';
import { GracefulExecHandle, KILL_GRACE_MS } from '../../src/providers/chunk-queue.js';
import type { ExecExit } from '../../src/providers/provider.js';

/** A remote command whose end comes only when `end` is called (or never). */
class Remote extends GracefulExecHandle {
  protected readonly exit: Promise<ExecExit>;
  stops = 0;
  gaveUps = 0;
  end: (exit: ExecExit) => void = () => undefined;
  constructor(private readonly endsOnStop: boolean) {
    super();
    this.exit = this.settle(new Promise<ExecExit>((resolve) => (this.end = resolve)));
    this.out.push({ stream: 'stdout', data: Buffer.from('hi') });
  }
  protected async stop(): Promise<void> {
    this.stops++;
    await Promise.resolve();
    if (this.endsOnStop) this.end({ exitCode: this.killed ? 137 : 0, signal: 'SIGKILL' });
  }
  protected override gaveUp(): void {
    this.gaveUps++;
  }
}

afterEach(() => vi.useRealTimers());

describe('GracefulExecHandle', () => {
  it('reports SIGKILL once the grace runs out when a killed command never reports its end', async () => {
    vi.useFakeTimers();
    const h = new Remote(false);
    const killed = h.kill();
    await vi.advanceTimersByTimeAsync(KILL_GRACE_MS - 1);
    expect(h.gaveUps).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    await killed;
    await expect(h.wait()).resolves.toEqual({ exitCode: 137, signal: 'SIGKILL' });
    expect([h.stops, h.gaveUps]).toEqual([1, 1]);
    const chunks = [];
    for await (const c of h) chunks.push(c.data.toString());
    expect(chunks).toEqual(['hi']); // output so far is kept, and the stream ends
  });

  it("keeps the command's own end when it comes within the grace, and a kill after the end does nothing", async () => {
    vi.useFakeTimers();
    const h = new Remote(true);
    await h.kill();
    await expect(h.wait()).resolves.toEqual({ exitCode: 137, signal: 'SIGKILL' });
    expect(h.gaveUps).toBe(0);
    expect(vi.getTimerCount()).toBe(0); // no grace timer left behind
    await h.kill();
    expect(h.stops).toBe(1);
  });
});
