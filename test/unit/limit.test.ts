/** concurrencyLimit: at most n jobs at once, the rest in order; a failed job frees its place. */
import { describe, expect, it } from 'vitest';
import { concurrencyLimit } from '../../src/core/limit.js';

/** A job the test finishes by hand (a barrier, not a timer). */
function gate(): { promise: Promise<string>; open: (v: string) => void; fail: (e: Error) => void } {
  let open!: (v: string) => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<string>((ok, no) => ([open, fail] = [ok, no]));
  return { promise, open, fail };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('concurrencyLimit', () => {
  it('runs at most n at once, starts the waiting ones in order as places free, and a failure frees its place', async () => {
    const limit = concurrencyLimit(2);
    const gates = [gate(), gate(), gate(), gate(), gate()];
    const started: number[] = [];
    const results = gates.map((g, i) =>
      limit(() => {
        started.push(i);
        return g.promise;
      }).catch((e: Error) => `error ${e.message}`),
    );
    await flush();
    expect(started).toEqual([0, 1]);
    gates[1]?.fail(new Error('boom'));
    await flush();
    expect(started).toEqual([0, 1, 2]);
    gates[0]?.open('a');
    await flush();
    expect(started).toEqual([0, 1, 2, 3]);
    // A newcomer waits behind those already waiting.
    const late = limit(() => (started.push(9), Promise.resolve('late')));
    gates[2]?.open('c');
    await flush();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    gates[3]?.open('d');
    gates[4]?.open('e');
    expect(await Promise.all([...results, late])).toEqual(['a', 'error boom', 'c', 'd', 'e', 'late']);
    expect(started).toEqual([0, 1, 2, 3, 4, 9]);
  });

  it('refuses a limit that is not a whole number ≥ 1', () => {
    expect(() => concurrencyLimit(0)).toThrow(/≥ 1/);
    expect(() => concurrencyLimit(1.5)).toThrow(/whole number/);
  });
});
