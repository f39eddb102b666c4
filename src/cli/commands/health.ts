import type { Context } from '../../core/context.js';
import { sessionHealth, type HealthOutput, type HealthRequest } from '../../core/ops/health.js';

export type { HealthOutput };

/** Options of `parallel-cc sandbox health`. */
export interface HealthFlags extends HealthRequest {
  json?: boolean;
}

/** `parallel-cc sandbox health`: uptime, CPU, memory, disk and cost of a session's sandbox (`core/ops/health.ts`). */
export async function healthCommand(flags: HealthFlags, ctx: Context): Promise<HealthOutput> {
  return sessionHealth(flags, ctx);
}
