/**
 * After a Daytona command's log stream closes, its end is read from the command's status. A stream
 * that broke while the command runs on (a dropped WebSocket) must not turn into a status request
 * every 250 ms for the rest of the run: the wait between two questions grows to 5 s.
 */
import type { Sandbox } from '@daytonaio/sdk';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DaytonaExecHandle } from '../../src/providers/daytona/exec.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('a Daytona command whose log stream broke', () => {
  it('is asked for its end with a growing wait (at most 5 s), and its exit code is the status\'s', async () => {
    vi.useFakeTimers();
    const asked: number[] = [];
    let endsAt = Infinity;
    // The port the handle uses, faked: the stream "breaks" at once while the command runs on for 60 s.
    const sbx = {
      fs: { uploadFile: () => Promise.resolve(), downloadFile: () => Promise.resolve(Buffer.alloc(0)) },
      process: {
        createSession: () => Promise.resolve(),
        executeSessionCommand: () => Promise.resolve({ cmdId: 'c1' }),
        getSessionCommandLogs: () => Promise.resolve(),
        getSessionCommand: () => {
          asked.push(Date.now());
          return Promise.resolve({ exitCode: Date.now() >= endsAt ? 3 : undefined });
        },
        executeCommand: () => Promise.resolve({ exitCode: 0, result: '' }),
        deleteSession: () => Promise.resolve(),
      },
    } as unknown as Sandbox;
    const start = Date.now();
    endsAt = start + 60_000;
    const handle = new DaytonaExecHandle(sbx, '/tmp/state', { argv: ['sleep', '60'], cwd: '/home/daytona' }, (e) => e as Error);
    await vi.advanceTimersByTimeAsync(70_000);
    const exit = await handle.wait();
    expect(exit).toEqual({ exitCode: 3, signal: null });
    // 250, 500, 1000, 2000, 4000, then every 5 s: about 20 questions in a minute, not 240.
    expect(asked.length).toBeLessThan(25);
    const gaps = asked.slice(1).map((t, i) => t - (asked[i] as number));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(5_000);
    expect(gaps[0]).toBe(250);
  });
});
