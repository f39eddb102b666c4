import type { Context } from '../../core/context.js';
import { listSessions, type StatusOutput, type StatusRequest } from '../../core/ops/status.js';

export type { StatusOutput };

/** Options of `parallel-cc status`. */
export interface StatusFlags extends StatusRequest {
  json?: boolean;
}

/** `parallel-cc status`: the sessions of every repo or of one (`core/ops/status.ts`). */
export async function statusCommand(flags: StatusFlags, ctx: Context): Promise<StatusOutput> {
  return listSessions(flags, ctx);
}
