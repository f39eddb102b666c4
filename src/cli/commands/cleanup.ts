import type { Context } from '../../core/context.js';
import { cleanup, type CleanupAction, type CleanupOutput, type CleanupRequest } from '../../core/ops/cleanup.js';

export type { CleanupAction };

/** Options of `parallel-cc cleanup`. */
export interface CleanupFlags extends CleanupRequest {
  json?: boolean;
}

/** `parallel-cc cleanup`: finishes orphaned sessions and removes leftovers, reporting each (`core/ops/cleanup.ts`). */
export async function cleanupCommand(flags: CleanupFlags, ctx: Context): Promise<CleanupOutput> {
  return cleanup(flags, ctx);
}
