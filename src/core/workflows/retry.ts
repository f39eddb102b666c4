import type { RunSummary } from '../events.js';
import type { RunReason } from '../outcome.js';
import type { RetryPolicy } from './definition.js';

/**
 * The reasons worth another attempt: the provider could not give us a sandbox (an outage, 5xx/429,
 * a creation timeout) or the sandbox went away under the agent. Never the agent's own failure, its
 * timeout, budget or check: running it again would spend the same money for the same result.
 */
export const TRANSIENT_REASONS: ReadonlySet<RunReason> = new Set<RunReason>(['provider_unavailable', 'sandbox_lost']);

/** A rejected key is `provider_unavailable` too, but no retry fixes it (HTTP 401/403 from the vendor kit's message). */
const KEY_REJECTED = /rejected the API key|is not set/;

/** True when a session that ended so should be attempted again. */
export function isTransient(summary: Pick<RunSummary, 'status' | 'reason' | 'error'>): boolean {
  if (summary.status !== 'failed' || summary.reason === undefined) return false;
  return TRANSIENT_REASONS.has(summary.reason) && !KEY_REJECTED.test(summary.error ?? '');
}

/** Seconds to wait before attempt `n` (2 = the first retry): delay × backoff^(n−2). */
export function retryDelaySeconds(policy: RetryPolicy, n: number): number {
  return policy.delay * policy.backoff ** Math.max(0, n - 2);
}

/** What {@link withRetries} reports. */
export interface RetriedRun {
  /** Each attempt's summary, in order; the last one is the run's outcome. */
  attempts: RunSummary[];
}

/** What {@link withRetries} needs: one attempt (given the first attempt's id from the second on), a sleep and a notice. */
export interface RetryDeps {
  attempt(n: number, firstId: string | undefined): Promise<RunSummary>;
  sleep(seconds: number): Promise<void>;
  /** Told before each retry (why and how long it waits). */
  retrying(next: number, after: RunSummary, waitSeconds: number): void;
  /** Aborted: no further attempt starts. */
  signal: AbortSignal;
}

/** Runs attempts until one is not transient or `policy.max` retries are spent. */
export async function withRetries(policy: RetryPolicy | undefined, deps: RetryDeps): Promise<RetriedRun> {
  const max = policy?.max ?? 0;
  const attempts: RunSummary[] = [];
  for (let n = 1; ; n++) {
    const s = await deps.attempt(n, attempts[0]?.sessionId);
    attempts.push(s);
    if (!policy || n > max || !isTransient(s) || deps.signal.aborted) return { attempts };
    const wait = retryDelaySeconds(policy, n + 1);
    deps.retrying(n + 1, s, wait);
    await deps.sleep(wait);
    if (deps.signal.aborted) return { attempts };
  }
}
