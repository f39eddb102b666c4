import { afterEach, describe, expect, it, vi } from 'vitest';
import { keptUnlessFailed } from '../../src/core/memo.js';

afterEach(() => vi.useRealTimers());

describe('keptUnlessFailed', () => {
  it('asks once while kept, again after keepMs, and a late failure of an old lookup leaves the newer one', async () => {
    vi.useFakeTimers();
    const cache = new Map<string, Promise<string>>();
    let asked = 0;
    let failFirst: (e: Error) => void = () => undefined;
    const lookUp = (): Promise<string> => {
      asked++;
      return asked === 1 ? new Promise<string>((_, reject) => (failFirst = reject)) : Promise.resolve(`answer ${asked}`);
    };
    const first = keptUnlessFailed(cache, 'k', lookUp, 1_000);
    expect(keptUnlessFailed(cache, 'k', lookUp, 1_000)).toBe(first);
    await vi.advanceTimersByTimeAsync(1_000);
    const second = keptUnlessFailed(cache, 'k', lookUp, 1_000);
    expect(asked).toBe(2);
    failFirst(new Error('late'));
    await expect(first).rejects.toThrow('late');
    expect(keptUnlessFailed(cache, 'k', lookUp, 1_000)).toBe(second);
    await expect(second).resolves.toBe('answer 2');
  });

  it('forgets a failure at once and keeps a success for the process without keepMs', async () => {
    const cache = new Map<string, Promise<void>>();
    let asked = 0;
    const check = (): Promise<void> => (++asked === 1 ? Promise.reject(new Error('down')) : Promise.resolve());
    await expect(keptUnlessFailed(cache, 'docker', check)).rejects.toThrow('down');
    await keptUnlessFailed(cache, 'docker', check);
    await keptUnlessFailed(cache, 'docker', check);
    expect(asked).toBe(2);
  });
});
