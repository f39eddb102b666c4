import type { Context } from '../../core/context.js';
import { killSession, type KillOutput, type KillRequest } from '../../core/ops/kill.js';

export type { KillOutput };

/** Options of `parallel-cc sandbox kill` (commander's --no-download sets `download` to false). */
export interface KillFlags extends KillRequest {
  json?: boolean;
}

/** `parallel-cc sandbox kill`: stops a session, through its live CLI or here (`core/ops/kill.ts`). */
export async function killCommand(flags: KillFlags, ctx: Context): Promise<KillOutput> {
  return killSession(flags, ctx);
}
