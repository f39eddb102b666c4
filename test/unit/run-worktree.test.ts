import { describe, expect, it } from 'vitest';
import { worktreeWhileChecking } from '../../src/core/run-worktree.js';

const later = <T>(ms: number, v: () => T): Promise<T> => new Promise((resolve, reject) => setTimeout(() => {
  try {
    resolve(v());
  } catch (e) {
    reject(e instanceof Error ? e : new Error(String(e)));
  }
}, ms));

describe('worktreeWhileChecking (the worktree made while the provider is checked)', () => {
  it('overlaps the two: a new worktree is made before a slow check ends', async () => {
    const order: string[] = [];
    const r = await worktreeWhileChecking(later(50, () => void order.push('checked')), false, () => {
      order.push('made');
      return Promise.resolve('wt');
    });
    expect(r).toEqual({ wt: 'wt' });
    expect(order).toEqual(['made', 'checked']);
  });

  it('a failed check wins over a failed worktree, and a made worktree is still reported (teardown removes it)', async () => {
    const down = new Error('no daemon');
    expect(await worktreeWhileChecking(Promise.reject(down), false, () => Promise.resolve('wt'))).toEqual({ wt: 'wt', unavailable: down });
    const bad = new Error('branch exists');
    expect(await worktreeWhileChecking(Promise.reject(down), false, () => Promise.reject(bad))).toEqual({ error: bad, unavailable: down });
    expect(await worktreeWhileChecking(Promise.resolve(), false, () => Promise.reject(bad))).toEqual({ error: bad });
  });

  it('never touches a continued worktree (the user’s) before the provider is known to work', async () => {
    let made = 0;
    const down = new Error('no daemon');
    expect(await worktreeWhileChecking(later(20, () => { throw down; }), true, () => Promise.resolve(String(++made)))).toEqual({ unavailable: down });
    expect(made).toBe(0);
    expect(await worktreeWhileChecking(Promise.resolve(), true, () => Promise.resolve(String(++made)))).toEqual({ wt: '1' });
  });
});
