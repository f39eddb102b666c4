import type { TaskSpec } from './tasks.js';

/** Final state of a task in a --multi run (the registry's terminal statuses). */
export type TaskStatus = 'completed' | 'failed' | 'timed_out' | 'killed' | 'over_budget' | 'skipped';

/** Why a task never started. */
export type SkipReason = { kind: 'dependency'; dependency: string; status: TaskStatus } | { kind: 'fail_fast'; after: string } | { kind: 'interrupted' };

/** Options of {@link schedule}. */
export interface ScheduleOptions<R extends { status: TaskStatus }> {
  tasks: readonly TaskSpec[];
  maxConcurrent: number;
  /** The first task that does not complete cancels the rest. */
  failFast: boolean;
  /** Ctrl-C: stops running tasks and skips queued ones. */
  signal: AbortSignal;
  /**
   * Runs one task. `signal` is the task's own: aborted by fail-fast or Ctrl-C, whatever stage the
   * task is in (initializing or running). Must not throw; failures are results.
   */
  run: (task: TaskSpec, deps: ReadonlyMap<string, R>, signal: AbortSignal) => Promise<R>;
  /** Records a task that never started. */
  skip: (task: TaskSpec, reason: SkipReason) => R | Promise<R>;
  /** Turns an unexpected exception from `run` into a result (a bug, but the batch must go on). */
  crashed: (task: TaskSpec, error: unknown) => R;
  /** Called when a task starts (for progress and tests). */
  onStart?: (task: TaskSpec) => void;
}

/**
 * Runs tasks with at most `maxConcurrent` at once, each only after its `after` tasks completed (a
 * dependency that did not complete skips its dependents). Tasks start in the order given, as soon as
 * they are ready. With fail-fast the first failure aborts every running task's signal (initializing
 * ones included, so none slips through) and skips all queued ones. Returns every task's result.
 */
export async function schedule<R extends { status: TaskStatus }>(opts: ScheduleOptions<R>): Promise<Map<string, R>> {
  const results = new Map<string, R>();
  const waiting = [...opts.tasks];
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let stopped: SkipReason | undefined;
  const stop = (reason: SkipReason): void => {
    if (stopped) return;
    stopped = reason;
    for (const r of running.values()) r.controller.abort();
  };
  const onAbort = (): void => stop({ kind: 'interrupted' });
  opts.signal.addEventListener('abort', onAbort, { once: true });
  if (opts.signal.aborted) onAbort();

  const start = (task: TaskSpec): void => {
    const controller = new AbortController();
    opts.onStart?.(task);
    const done = opts.run(task, results, controller.signal).catch((e: unknown) => opts.crashed(task, e)).then((r) => {
      results.set(task.id, r);
      running.delete(task.id);
      if (opts.failFast && r.status !== 'completed') stop({ kind: 'fail_fast', after: task.id });
    });
    running.set(task.id, { controller, done });
  };

  try {
    for (;;) {
      // Start, or skip, every waiting task that can be decided now; repeat until nothing changes.
      let changed = true;
      while (changed) {
        changed = false;
        for (const task of [...waiting]) {
          let decision: 'start' | SkipReason | undefined;
          if (stopped) decision = stopped;
          else {
            const failedDep = task.after.find((d) => results.has(d) && results.get(d)?.status !== 'completed');
            if (failedDep !== undefined) decision = { kind: 'dependency', dependency: failedDep, status: results.get(failedDep)?.status ?? 'failed' };
            else if (running.size < opts.maxConcurrent && task.after.every((d) => results.has(d))) decision = 'start';
          }
          if (decision === undefined) continue;
          waiting.splice(waiting.indexOf(task), 1);
          changed = true;
          if (decision === 'start') start(task);
          else results.set(task.id, await opts.skip(task, decision));
        }
      }
      if (running.size === 0) break;
      await Promise.race([...running.values()].map((r) => r.done));
    }
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
  }
  // Only reachable with a dependency cycle, which callers reject up front.
  for (const task of waiting) results.set(task.id, await opts.skip(task, { kind: 'dependency', dependency: task.after[0] ?? task.id, status: 'skipped' }));
  return results;
}
