/** What {@link worktreeWhileChecking} ended with: the worktree if it was made, and what went wrong. */
export interface Prepared<W> {
  wt?: W;
  /** The provider check's error: the session fails as provider_unavailable, and it wins over `error`. */
  unavailable?: unknown;
  error?: unknown;
}

/**
 * Makes the session's worktree while the provider is checked: independent steps, overlapped (a
 * failed check leaves an empty new worktree, which the run's teardown removes). A continued
 * worktree (`--worktree`, `sandbox resume`) is the user's: it is only touched once the provider is
 * known to work.
 */
export async function worktreeWhileChecking<W>(check: Promise<void>, continued: boolean, make: () => Promise<W>): Promise<Prepared<W>> {
  const checked = check.then(() => undefined, (e: unknown) => ({ e }));
  if (continued) {
    const r = await checked;
    if (r) return { unavailable: r.e };
  }
  const made = await make().then((wt) => ({ wt }), (e: unknown) => ({ error: e }));
  const r = await checked;
  return { ...made, ...(r ? { unavailable: r.e } : {}) };
}
