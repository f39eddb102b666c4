/**
 * A lookup kept per key while it has not failed: a success is asked for once (for `keepMs` when
 * given, else for the process), a failure is forgotten, so the next caller asks again. Serves the
 * providers' `checkAvailable` (every task of a `--multi` asks) and `repoRoot` (the CLI and the run
 * both ask; kept for seconds, so a long-lived process sees a new `git init`).
 */
export function keptUnlessFailed<T>(cache: Map<string, Promise<T>>, key: string, lookUp: () => Promise<T>, keepMs?: number): Promise<T> {
  let kept = cache.get(key);
  if (!kept) {
    const mine = lookUp();
    kept = mine;
    cache.set(key, mine);
    // Only this lookup's own entry goes: a newer one for the same key stays.
    const forget = (): void => {
      if (cache.get(key) === mine) cache.delete(key);
    };
    mine.catch(forget);
    if (keepMs !== undefined) setTimeout(forget, keepMs).unref();
  }
  return kept;
}
