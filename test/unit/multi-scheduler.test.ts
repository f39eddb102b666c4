import { describe, expect, it } from 'vitest';
import { schedule, type SkipReason, type TaskStatus } from '../../src/core/multi/scheduler.js';
import type { TaskSpec } from '../../src/core/multi/tasks.js';

interface R {
  status: TaskStatus;
  why?: SkipReason;
  sawAbort?: boolean;
}

const task = (id: string, after: string[] = []): TaskSpec => ({ id, prompt: id, after });
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));

/** A fake task runner: each task waits until the test settles it (or its signal aborts). */
function harness(): {
  run: (t: TaskSpec, deps: ReadonlyMap<string, R>, signal: AbortSignal) => Promise<R>;
  settle: (id: string, status: TaskStatus) => void;
  started: string[];
  live: () => number;
  peak: () => number;
} {
  const pending = new Map<string, (s: TaskStatus) => void>();
  const started: string[] = [];
  let live = 0;
  let peak = 0;
  return {
    started,
    live: () => live,
    peak: () => peak,
    settle: (id, status) => pending.get(id)?.(status),
    run: (t, _deps, signal) =>
      new Promise<R>((resolve) => {
        started.push(t.id);
        live++;
        peak = Math.max(peak, live);
        const done = (status: TaskStatus, sawAbort = false): void => {
          live--;
          resolve({ status, sawAbort });
        };
        pending.set(t.id, (s) => done(s));
        signal.addEventListener('abort', () => done('killed', true), { once: true });
      }),
  };
}

const base = { failFast: false, signal: new AbortController().signal, skip: (_t: TaskSpec, why: SkipReason): R => ({ status: 'skipped', why }), crashed: (): R => ({ status: 'failed' }) };

describe('schedule', () => {
  it('never runs more than maxConcurrent tasks and starts them in order', async () => {
    const h = harness();
    const tasks = ['a', 'b', 'c', 'd', 'e'].map((id) => task(id));
    const done = schedule<R>({ ...base, tasks, maxConcurrent: 2, run: h.run });
    await tick();
    expect(h.started).toEqual(['a', 'b']);
    h.settle('b', 'completed');
    await tick();
    expect(h.started).toEqual(['a', 'b', 'c']);
    for (const id of ['a', 'c', 'd', 'e']) {
      h.settle(id, 'completed');
      await tick();
    }
    const results = await done;
    expect(h.peak()).toBe(2);
    expect([...results.values()].every((r) => r.status === 'completed')).toBe(true);
  });

  it('starts a dependent only after its dependencies complete; a failure skips dependents transitively', async () => {
    const h = harness();
    const tasks = [task('c', ['b']), task('b', ['a']), task('a'), task('x', ['a']), task('free')];
    const done = schedule<R>({ ...base, tasks, maxConcurrent: 5, run: h.run });
    await tick();
    expect(h.started).toEqual(['a', 'free']);
    h.settle('a', 'completed');
    await tick();
    expect(h.started).toEqual(['a', 'free', 'b', 'x']);
    h.settle('b', 'failed');
    h.settle('x', 'completed');
    h.settle('free', 'completed');
    const results = await done;
    expect(results.get('c')).toEqual({ status: 'skipped', why: { kind: 'dependency', dependency: 'b', status: 'failed' } });
    expect(h.started).not.toContain('c');
  });

  it('fail-fast aborts running tasks (whatever their stage) and skips queued ones', async () => {
    const h = harness();
    const tasks = ['a', 'b', 'c', 'd'].map((id) => task(id));
    const done = schedule<R>({ ...base, failFast: true, tasks, maxConcurrent: 3, run: h.run });
    await tick();
    h.settle('a', 'failed');
    const results = await done;
    expect(results.get('b')).toEqual({ status: 'killed', sawAbort: true });
    expect(results.get('c')).toEqual({ status: 'killed', sawAbort: true });
    expect(results.get('d')).toEqual({ status: 'skipped', why: { kind: 'fail_fast', after: 'a' } });
    expect(h.started).toEqual(['a', 'b', 'c']);
  });

  it('Ctrl-C stops running tasks and skips the rest; without fail-fast a failure does not', async () => {
    const h = harness();
    const ctl = new AbortController();
    const done = schedule<R>({ ...base, signal: ctl.signal, tasks: ['a', 'b', 'c'].map((id) => task(id)), maxConcurrent: 2, run: h.run });
    await tick();
    h.settle('a', 'failed');
    await tick();
    expect(h.started).toEqual(['a', 'b', 'c']);
    ctl.abort();
    const results = await done;
    expect([...results.entries()].map(([id, r]) => [id, r.status])).toEqual([
      ['a', 'failed'],
      ['b', 'killed'],
      ['c', 'killed'],
    ]);
    const h2 = harness();
    const r2 = await schedule<R>({ ...base, signal: ctl.signal, tasks: [task('z')], maxConcurrent: 1, run: h2.run });
    expect(r2.get('z')).toEqual({ status: 'skipped', why: { kind: 'interrupted' } });
  });

  it('turns a throwing runner into a result instead of losing the batch', async () => {
    const results = await schedule<R>({ ...base, tasks: [task('a'), task('b', ['a'])], maxConcurrent: 1, run: () => Promise.reject(new Error('boom')) });
    expect(results.get('a')?.status).toBe('failed');
    expect(results.get('b')?.status).toBe('skipped');
  });
});
