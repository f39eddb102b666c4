/**
 * A concurrency limit: the returned function runs at most `n` jobs at once, the others wait their
 * turn in order. A job that fails frees its place like one that succeeds (its error is the caller's).
 */
export function concurrencyLimit(n: number): <T>(job: () => Promise<T>) => Promise<T> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`a concurrency limit must be a whole number ≥ 1 (got ${n})`);
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(job: () => Promise<T>): Promise<T> => {
    // A finished job hands its place to the next in line (running stays counted): no newcomer jumps the queue.
    if (running >= n) await new Promise<void>((go) => waiting.push(go));
    else running += 1;
    try {
      return await job();
    } finally {
      if (waiting.length > 0) waiting.shift()?.();
      else running -= 1;
    }
  };
}
