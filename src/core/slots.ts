import { setTimeout as delay } from 'node:timers/promises';
import { AppError } from '../errors.js';
import type { SessionRepository } from '../store/sessions.js';
import type { StreamEvent } from './events.js';
import { pidAlive } from './pid.js';

/** A provider's rate limits (config `limits.<provider>`). */
export interface ProviderLimits {
  sandboxesPerMinute?: number;
  maxConcurrentSandboxes?: number;
}

// Ends early on abort (the loop then says it was interrupted).
const sleep = (ms: number, signal: AbortSignal): Promise<void> => delay(ms, undefined, { signal }).catch(() => undefined);

/**
 * Waits until the session may create a sandbox under its provider's limits, across every parallel-cc
 * process on the machine (the registry is the ledger), then claims the slot. Waiting is visible (a
 * phase event and the row's last activity) and never fails; Ctrl-C stops it.
 */
export async function waitForSlot(
  sessions: SessionRepository,
  id: string,
  provider: string,
  limits: ProviderLimits | undefined,
  opts: { signal: AbortSignal; emit: (e: StreamEvent) => void; pollMs?: number },
): Promise<void> {
  if (!limits || (limits.maxConcurrentSandboxes === undefined && limits.sandboxesPerMinute === undefined)) return;
  let said: string | undefined;
  for (;;) {
    const why = sessions.claimSlot(id, provider, { ...(limits.maxConcurrentSandboxes !== undefined ? { maxConcurrent: limits.maxConcurrentSandboxes } : {}), ...(limits.sandboxesPerMinute !== undefined ? { perMinute: limits.sandboxesPerMinute } : {}) }, (pid) => pid !== null && pidAlive(pid));
    if (why === undefined) {
      if (said) opts.emit({ type: 'phase', phase: 'sandbox', message: 'got a sandbox slot' });
      return;
    }
    if (why !== said) {
      opts.emit({ type: 'phase', phase: 'sandbox', message: `waiting for a sandbox slot: ${why}` });
      sessions.update(id, { lastActivity: 'waiting for a sandbox slot' });
      said = why;
    }
    if (opts.signal.aborted) throw new AppError('interrupted', 'interrupted while waiting for a sandbox slot');
    await sleep(opts.pollMs ?? 500, opts.signal);
  }
}
