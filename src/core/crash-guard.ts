/**
 * The last line of defence against a bug: if anything throws where nobody catches it (an
 * `uncaughtException` or `unhandledRejection`), the CLI must not die silently with sandboxes left
 * running unobserved. src/bin.ts installs the process handlers and exits; this records the failure
 * on every session this process owns and stops their sandboxes first.
 */

/** A session this process is running, as the guard sees it. */
export interface OwnedSession {
  /** Records the session as failed with this reason (synchronous: the registry is SQLite). */
  fail(reason: string): void;
  /** Stops and removes its sandbox and host-side services. */
  stop(): Promise<void>;
}

/** How long the guard waits for sandboxes to stop before the process exits anyway. */
export const CRASH_STOP_TIMEOUT_MS = 20_000;

/** Tracks the sessions of this process; `runSession` registers each one while it runs. */
export class SessionGuard {
  private readonly owned = new Map<string, OwnedSession>();

  /** Registers a session; the returned function unregisters it (call it once the run has ended). */
  add(id: string, session: OwnedSession): () => void {
    this.owned.set(id, session);
    return () => this.owned.delete(id);
  }

  /** Ids of the sessions currently registered. */
  ids(): string[] {
    return [...this.owned.keys()];
  }

  /**
   * Marks every owned session failed ("internal error: …"), stops their sandboxes (at most
   * `timeoutMs`), marks them again and calls `exit` in the same synchronous step: a run that
   * noticed its sandbox going may have written its own status meanwhile, and nothing may
   * overwrite the truth (the process failed) before the process ends. Never throws.
   */
  async crash(err: unknown, exit: () => void, timeoutMs = CRASH_STOP_TIMEOUT_MS): Promise<void> {
    const reason = `internal error: ${err instanceof Error ? err.message : String(err)}`;
    const sessions = [...this.owned.entries()];
    const failAll = (): void => {
      for (const [, s] of sessions) {
        try {
          s.fail(reason);
        } catch {
          // The registry itself may be what failed; stopping the sandboxes matters more.
        }
      }
    };
    failAll();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(sessions.map(([, s]) => s.stop())),
      new Promise<void>((r) => (timer = setTimeout(r, timeoutMs))),
    ]);
    clearTimeout(timer);
    failAll();
    exit();
  }
}
