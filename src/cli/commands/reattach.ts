import type { Context } from '../../core/context.js';
import type { StreamEvent } from '../../core/events.js';
import { reattachSession } from '../../core/ops/reattach.js';
import type { FinishReport } from '../../core/recover.js';

/** `parallel-cc sandbox reattach`: takes over a session whose CLI died (`core/ops/reattach.ts`). */
export async function reattachCommand(flags: { sessionId?: string }, ctx: Context, onEvent?: (e: StreamEvent) => void): Promise<FinishReport> {
  return reattachSession(flags, ctx, onEvent);
}
